"""The vocabulary of bench/questions.py: question families, their phrasings and slot pools.

Written for this project. A family is one kind of question ("how do I fix E in T when C?") with
three or four slots, each filled from a pool; its phrasings say the same question in different
words, so another phrasing of a stored question is a paraphrase of it. `HELD_OUT` families are
never stored: their questions are unrelated to every entry.
"""

from __future__ import annotations

_POOLS = {
    "tool": "Python;Docker;Kubernetes;Git;npm;PostgreSQL;nginx;Redis;React;Django;Flask;Terraform;"
    "Ansible;Jenkins;GitHub Actions;AWS Lambda;Apache Spark;Kafka;Elasticsearch;MySQL;MongoDB;"
    "Cargo;Go modules;Maven;Gradle;webpack;Vite;Node.js;TypeScript;Excel;WordPress;systemd;"
    "PowerShell;Bash;Vim;VS Code;PyTorch;TensorFlow;pandas;Jupyter;Helm;Celery;RabbitMQ;SQLite;"
    "Rails;Laravel;Spring Boot;Unity;Android Studio;Xcode",
    "error": "a timeout;a permission denied error;an out of memory error;a segmentation fault;"
    "a connection refused error;an SSL certificate error;a missing dependency;a version conflict;"
    "a disk full error;a deadlock;a memory leak;a very slow startup;high CPU usage;a broken build;"
    "a failed migration;a corrupted cache;a unicode encoding error;a null pointer exception;"
    "a DNS resolution failure;a rate limit error;a lock file conflict;an authentication failure;"
    "a stack overflow;a port already in use error;a hanging process;a checksum mismatch;"
    "a syntax error;a config parse error;an import error;a crash loop",
    "context": "after upgrading;on startup;in CI;behind a corporate proxy;inside a container;"
    "on a fresh install;after a reboot;on Windows;on macOS;on ARM machines;under heavy load;"
    "during deployment;only in production;when running the tests;after changing the config;"
    "on a shared server;with a large dataset;over a VPN;in a virtual machine;"
    "every night at midnight;"
    "after a power outage;with many users at once;in offline mode;on a slow network",
    "task": "set up logging;write unit tests;profile memory use;cache expensive results;"
    "retry failed requests;parse nested JSON;schedule recurring jobs;deploy to a server;"
    "monitor errors;keep secrets out of the code;paginate results;stream large files;"
    "validate user input;migrate old data;rotate log files;speed up the build;debug a hang;"
    "package the app in a container;pin dependency versions;benchmark performance;"
    "handle time zones;send email notifications;upload files to S3;run tasks in parallel;"
    "add authentication;generate API documentation;roll back a release;reduce the image size;"
    "set up a staging environment;enable hot reloading",
    "constraint": "without downtime;as a complete beginner;on a tight budget;with as little code "
    "as possible;for a team of five;in a ten year old codebase;at large scale;securely;in under an "
    "hour;without root access;on a laptop with 8 GB of RAM;for a school project;in a monorepo;"
    "on a Raspberry Pi;without internet access;for a high traffic website;following best "
    "practices;for a side project;in an air-gapped network;with strict compliance rules",
    "usecase": "a small web app;a data pipeline;a mobile backend;a machine learning project;"
    "a startup MVP;an internal dashboard;a chat application;an e-commerce site;a REST API;"
    "a batch processing job;a real-time game server;a personal blog;a scientific simulation;"
    "a banking system;an IoT platform;a search engine;a video streaming service;a CLI tool;"
    "a browser extension;a microservice architecture;a reporting system;a university course;"
    "a hackathon;a healthcare application;a logistics platform",
    "dish": "lasagna;banana bread;chicken curry;ramen;pancakes;sourdough bread;beef stew;pad thai;"
    "mushroom risotto;chocolate cake;guacamole;falafel;tomato soup;apple pie;fried rice;paella;"
    "chili con carne;carrot cake;shakshuka;mac and cheese;pesto pasta;lentil soup;fish tacos;"
    "sushi rice;cheesecake;brownies;roast chicken;pulled pork;hummus;granola;french onion soup;"
    "tiramisu;quiche;meatballs;pork dumplings;naan;focaccia;pho;gazpacho;moussaka;biryani;"
    "jambalaya;ratatouille;cornbread;pumpkin pie;scones;croissants;miso soup;kimchi;"
    "bolognese sauce;spring rolls;waffles;lemon tart;potato salad;coleslaw;gnocchi;enchiladas;"
    "stuffed peppers;clam chowder;pavlova",
    "ingredient": "eggs;butter;milk;sugar;wheat flour;heavy cream;cheese;garlic;onions;soy sauce;"
    "white wine;yeast;baking powder;honey;rice;chicken stock;tomatoes;lemon juice;olive oil;"
    "walnuts;sour cream;buttermilk;brown sugar;cornstarch;breadcrumbs;vinegar;mayonnaise;"
    "coconut milk;fresh basil;ground beef;bacon;shrimp;tofu;parmesan;yogurt;maple syrup;"
    "vanilla extract;cocoa powder;peanut butter;fish sauce",
    "diet": "vegan;gluten-free;dairy-free;low-carb;keto;nut-free;low-sodium;halal;kosher;"
    "diabetic-friendly;paleo;vegetarian;low-fat;egg-free;high-protein",
    "equipment": "an air fryer;a slow cooker;a pressure cooker;a cast iron pan;a microwave;a wok;"
    "a dutch oven;a toaster oven;a charcoal grill;a bread machine;an Instant Pot;a convection oven;"
    "a campfire;a rice cooker;a sheet pan",
    "servings": "two people;a family of four;a party of twenty;one person;a potluck;a bake sale;"
    "a school lunch box;a picnic;a dinner party of eight;meal prep for the week;a birthday party;"
    "a holiday dinner",
    "dish_problem": "too dry;soggy;bland;burnt on the bottom;raw in the middle;too salty;flat;"
    "rubbery;greasy;bitter;too dense;crumbly;watery;too sweet;sticky;lumpy;tough;grainy;"
    "cracked on top;undercooked",
    "city": "Paris;Tokyo;New York;London;Rome;Barcelona;Lisbon;Berlin;Amsterdam;Prague;Vienna;"
    "Budapest;Istanbul;Athens;Dubai;Singapore;Bangkok;Hanoi;Seoul;Kyoto;Osaka;Sydney;Melbourne;"
    "Auckland;Cape Town;Marrakech;Cairo;Nairobi;Lima;Cusco;Buenos Aires;Rio de Janeiro;"
    "Mexico City;Havana;Toronto;Vancouver;Montreal;Chicago;San Francisco;Los Angeles;Seattle;"
    "New Orleans;Miami;Boston;Denver;Reykjavik;Oslo;Stockholm;Copenhagen;Helsinki;Dublin;"
    "Edinburgh;Madrid;Seville;Florence;Venice;Naples;Munich;Zurich;Geneva;Krakow;Warsaw;"
    "Tallinn;Riga;Vilnius;Dubrovnik;Split;Santorini;Valletta;Porto;Bali;Kuala Lumpur;Manila;"
    "Taipei;Hong Kong;Shanghai;Beijing;Mumbai;Delhi;Jaipur;Kathmandu;Colombo;Tbilisi;Baku;"
    "Tel Aviv;Amman;Doha;Muscat;Zanzibar;Queenstown;Honolulu;Anchorage;Quebec City;Cartagena;"
    "Medellin;Santiago;Montevideo;La Paz;Quito;Panama City;San Juan;Nassau;Bruges;Salzburg;"
    "Ljubljana;Sofia;Bucharest;Belgrade;Sarajevo;Kotor;Tirana;Chiang Mai;Luang Prabang;"
    "Siem Reap;Ho Chi Minh City;Fez;Tunis;Accra;Dakar;Windhoek;Victoria Falls;Perth",
    "month": "January;February;March;April;May;June;July;August;September;October;November;"
    "December",
    "traveller": "with small kids;alone;on a backpacker budget;as a student;in a wheelchair;"
    "with a dog;on a honeymoon;on a business trip;as a vegetarian;with elderly parents;"
    "with a group of friends;for the first time;without speaking the language;as a photographer;"
    "on a luxury budget;with a newborn;as a digital nomad;on a cruise stopover;for a bachelor "
    "party;as a history buff",
    "duration": "one day;a long weekend;three days;a week;two weeks;a month;a twelve hour layover;"
    "an afternoon;five days;ten days;a single evening;a rainy day",
    "activity": "go hiking;visit the best museums;try the local street food;go to the beach;"
    "see live music;go shopping for antiques;take a cooking class;go kayaking;see the sunset;"
    "find a quiet cafe to work in;go rock climbing;watch a football match;visit a vineyard;"
    "go snorkeling;take a day trip;see the northern lights;go cycling;find a good bookshop;"
    "go to a night market;visit a hot spring;see wildlife;go skiing;take a boat tour;"
    "find a vegan restaurant;go bird watching;visit a castle;go surfing;learn to dance;"
    "see street art;go camping",
    "amount": "$500;$1,000;$2,500;$5,000;$10,000;$20,000;$25,000;$50,000;$75,000;$100,000;"
    "$250,000;$1 million;$300 a month;$1,000 a month;$50 a week;my whole bonus;an inheritance;"
    "my tax refund;my savings;a small windfall",
    "goal": "buying a house;retiring early;paying for college;starting a business;a wedding;"
    "an emergency fund;a new car;a trip around the world;paying off student loans;my kids' future;"
    "a home renovation;a sabbatical year;medical bills;a down payment on a flat;my retirement;"
    "a rainy day;moving abroad;buying a boat;a career change;a new laptop",
    "horizon": "within one year;in two years;in five years;in ten years;over twenty years;"
    "before I turn forty;by next summer;in about eighteen months;over the next decade;"
    "before I retire;in three to five years;as soon as possible",
    "account": "a high-yield savings account;index funds;government bonds;a 401(k);a Roth IRA;"
    "rental property;gold;a certificate of deposit;dividend stocks;a money market fund;"
    "cryptocurrency;a robo-advisor;treasury bills;real estate crowdfunding;an ISA",
    "income": "freelance income;rental income;capital gains;crypto gains;a signing bonus;"
    "stock options;dividend income;a pension;royalties;an inheritance;tips;side hustle income;"
    "a severance payment;lottery winnings;interest from savings",
    "country": "the United States;Canada;the United Kingdom;Germany;France;Spain;Italy;the "
    "Netherlands;Sweden;Norway;Australia;New Zealand;Japan;Singapore;India;Brazil;Mexico;"
    "Portugal;Ireland;Switzerland;Belgium;Poland;South Africa;the UAE;South Korea;Argentina;"
    "Denmark;Austria;Greece;Thailand",
    "situation": "work remotely for a foreign company;moved there in the middle of the year;"
    "am self-employed;have two jobs;am a student;am retired;work part time;am married to a "
    "foreigner;live there only half the year;sold my house;have a side business;got laid off;"
    "work as a contractor;just turned eighteen;am on a work visa",
    "exercise": "running;swimming;cycling;yoga;weight lifting;pilates;rowing;boxing;HIIT workouts;"
    "rock climbing;jumping rope;hiking;dancing;tennis;CrossFit;walking;kettlebell training;"
    "stretching;spinning classes;calisthenics;martial arts;stair climbing;skating;basketball;"
    "kayaking;golf;barre classes;trail running;squats;push-ups",
    "fitness_goal": "lose weight;build muscle;improve my endurance;fix my posture;get more "
    "flexible;lower my blood pressure;sleep better;reduce back pain;train for a marathon;"
    "strengthen my knees;get a six pack;improve my balance;reduce stress;gain weight;"
    "recover from an injury",
    "person": "a complete beginner;someone over sixty;a pregnant woman;someone with bad knees;"
    "a teenager;a busy parent;someone with asthma;an office worker;someone who is overweight;"
    "a former athlete;someone with arthritis;a night shift worker;someone with diabetes;"
    "a college student;someone recovering from surgery;a new mom;a vegetarian;someone with "
    "a heart condition;a ten year old;someone who travels a lot",
    "symptom": "dizzy;sore for days;nauseous;short of breath;a sharp knee pain;a headache;"
    "lower back pain;shin pain;cramps in my calves;numb fingers;exhausted all day;a pain in my "
    "side;wrist pain;shoulder pain;heart palpitations;very hungry;unusually cold;a burning "
    "feeling in my chest;itchy skin;ringing in my ears;blurry vision;hip pain;a stiff neck;"
    "anxious;unable to sleep",
    "when": "the next morning;right away;a few hours later;every single time;only on hot days;"
    "when I go longer than usual;after a week off;when I eat beforehand;only in the evening;"
    "since I changed shoes;when I go faster;after I stretch",
    "pet": "golden retriever;labrador;german shepherd;french bulldog;beagle;poodle;dachshund;"
    "border collie;chihuahua;husky;pug;shih tzu;boxer;corgi;rottweiler;cat;maine coon;siamese "
    "cat;persian cat;bengal cat;rabbit;guinea pig;hamster;parrot;budgie;bearded dragon;"
    "goldfish;ferret;tortoise;cockatiel",
    "pet_age": "young;old;senior;newly adopted;three month old;one year old;twelve year old;rescue",
    "pet_issue": "not eating;drinking a lot of water;scratching all the time;limping;vomiting;"
    "losing fur;hiding under the bed;barking at night;sleeping all day;shaking;coughing;"
    "sneezing;biting its paws;peeing indoors;gaining weight;losing weight;breathing fast;"
    "chewing furniture;afraid of strangers;licking the floor;eating grass;whining;"
    "aggressive with other pets;not using the litter box;running in circles",
    "pet_change": "after we moved house;since the new baby arrived;after a vet visit;since we "
    "changed its food;in the winter;after we got a second pet;when we leave for work;at night;"
    "after its vaccinations;since it got neutered",
    "plant": "tomatoes;basil;roses;orchids;lavender;tulips;strawberries;blueberries;cucumbers;"
    "peppers;zucchini;lemon trees;apple trees;hydrangeas;succulents;ferns;monstera;fiddle leaf "
    "figs;snake plants;peace lilies;sunflowers;potatoes;garlic;carrots;lettuce;spinach;mint;"
    "rosemary;hostas;bonsai trees;grapevines;raspberries;peonies;dahlias;lilies;cacti;bamboo;"
    "pumpkins;onions;kale",
    "plant_problem": "turning yellow;wilting;getting brown spots;dropping their leaves;not "
    "flowering;growing very slowly;covered in white powder;full of tiny bugs;rotting at the "
    "base;splitting;curling their leaves;getting leggy;not producing fruit;drying out at the "
    "tips;getting eaten by slugs;turning black;falling over;getting mushy;losing their color;"
    "growing mold on the soil",
    "place": "on my balcony;in a shady garden;indoors by a window;in a greenhouse;in clay soil;"
    "in pots;in raised beds;in sandy soil;under grow lights;in a windy spot;in a hot climate;"
    "in a cold climate;near the sea;in an office;in a north facing room",
    "repair": "fix;replace;clean;paint;seal;insulate;unclog;reset;soundproof;level",
    "home_item": "a leaking faucet;a squeaky door;a running toilet;a cracked tile;a drafty "
    "window;a clogged drain;a broken garage door opener;a tripping circuit breaker;a sagging "
    "shelf;a mouldy shower grout;a noisy radiator;a loose floorboard;a stuck sliding door;"
    "a dripping shower head;a cracked ceiling;a flickering light;a wobbly table;a damp "
    "basement wall;a peeling wallpaper;a gap under the front door;a blocked gutter;a noisy "
    "fridge;a smelly dishwasher;a cold water heater;a stained carpet",
    "room": "in an old house;in a rented apartment;in the bathroom;in the kitchen;in the "
    "basement;without calling a plumber;with basic tools;in a hurry before guests arrive;"
    "for under $20;without damaging the wall;in a mobile home;in the attic",
    "car": "Toyota Corolla;Honda Civic;Ford F-150;Tesla Model 3;Volkswagen Golf;BMW 3 Series;"
    "Subaru Outback;Mazda CX-5;Nissan Leaf;Jeep Wrangler;Hyundai Tucson;Kia Sportage;Audi A4;"
    "Chevrolet Silverado;Toyota Prius;Ford Focus;Volvo XC60;Renault Clio;Peugeot 208;Fiat 500;"
    "Mercedes C-Class;Honda CR-V;Toyota RAV4;Skoda Octavia;Mini Cooper;Porsche 911;Dodge Ram;"
    "Nissan Qashqai;Hyundai Ioniq 5;Volkswagen Polo",
    "car_issue": "makes a grinding noise when braking;won't start in the morning;shakes at high "
    "speed;pulls to the left;smells like burning oil;has a check engine light on;loses coolant;"
    "drains its battery overnight;has a squealing belt;uses too much fuel;has a soft brake "
    "pedal;stalls at idle;has a rattle under the car;overheats in traffic;has a leaking "
    "sunroof;shifts gears roughly;has a dead key fob;blows hot air from the AC;has a flat "
    "tyre every week;clicks when turning",
    "car_when": "in cold weather;after a long drive;when it rains;only when the AC is on;after "
    "the last service;at around 100 km/h;when the tank is low;since I hit a pothole;every "
    "morning;after sitting for a week;on steep hills;when the car is fully loaded",
    "device": "iPhone 13;Samsung Galaxy S22;Pixel 7;MacBook Air;Dell XPS laptop;iPad;Kindle;"
    "PlayStation 5;Xbox Series X;Nintendo Switch;Apple Watch;AirPods;smart TV;Wi-Fi router;"
    "printer;Chromebook;gaming PC;Ring doorbell;robot vacuum;smart thermostat;Bluetooth "
    "speaker;GoPro;external hard drive;mechanical keyboard;Surface Pro",
    "device_issue": "won't turn on;keeps restarting;drains the battery fast;gets very hot;"
    "won't connect to Wi-Fi;has no sound;has a flickering screen;is very slow;won't charge;"
    "keeps disconnecting from Bluetooth;freezes randomly;won't update;shows a black screen;"
    "makes a buzzing noise;lost all my photos;has a stuck pixel;won't pair with my phone;"
    "runs out of storage;keeps logging me out;has a touchscreen that stopped responding",
    "device_event": "a software update;dropping it;getting it wet;a power cut;a factory reset;"
    "installing a new app;changing my password;moving to a new house;replacing the battery;"
    "leaving it in a hot car;a week of not using it;connecting a new charger;switching "
    "carriers;restoring a backup;adding a second monitor",
    "concept": "recursion;compound interest;photosynthesis;black holes;inflation;the blockchain;"
    "neural networks;natural selection;supply and demand;quantum entanglement;the Pythagorean "
    "theorem;derivatives in calculus;public key cryptography;plate tectonics;the immune system;"
    "Bayes' theorem;opportunity cost;DNA replication;the greenhouse effect;relativity;"
    "big O notation;probability distributions;the stock market;entropy;vaccines;electric "
    "circuits;the water cycle;machine learning;democracy;the French Revolution;gravity;"
    "hash tables;climate change;fractions;logarithms;the placebo effect;game theory;"
    "the Roman Empire;interest rates;nuclear fission",
    "audience": "a five year old;a high school student;my grandmother;a software engineer;"
    "a complete beginner;a business executive;a history teacher;a nurse;a ten year old;"
    "a non-native speaker;someone who hates math;a visual learner;a university student;"
    "a journalist;a lawyer",
    "style": "a simple analogy;a real world example;a short story;a step by step explanation;"
    "a drawing I can sketch;a cooking metaphor;a sports analogy;no jargon at all;three bullet "
    "points;a quick quiz at the end;a comparison with everyday life;a single paragraph;"
    "a list of common mistakes;a historical example;a practical exercise",
    "skill": "Spanish;Japanese;the piano;the guitar;coding in Python;drawing;chess;touch typing;"
    "public speaking;photography;swimming;cooking;sign language;data analysis;video editing;"
    "knitting;salsa dancing;French;Mandarin;the violin;calligraphy;sketching portraits;"
    "SQL;statistics;German;woodworking;juggling;surfing;singing;accounting",
    "practice": "for ten minutes a day;for an hour every day;only on weekends;three times a week;"
    "for two hours a week;every evening after work;during my commute;in an intensive month;"
    "with a private teacher;with free apps only",
    "boss_ask": "a raise;remote work;a four day week;a promotion;more training;a transfer to "
    "another team;unpaid leave;a better job title;a new laptop;flexible hours;a mentor;"
    "fewer meetings;a sabbatical;to drop a project;paid overtime",
    "work_situation": "the company is doing badly;I have only been here six months;my manager "
    "is new;I just got a better offer;I work remotely;everyone is overworked;my review was "
    "average;I am the only expert on my team;there is a hiring freeze;I am pregnant;I work "
    "part time;we just had layoffs",
    "tone": "without sounding pushy;politely;by email;in a one on one;with data to back it up;"
    "in a short message;without burning bridges;confidently;in a performance review;"
    "without making it awkward",
    "event": "World War I;the fall of the Berlin Wall;the Industrial Revolution;the Black Death;"
    "the moon landing;the printing press;the Great Depression;the Cold War;the Renaissance;"
    "the American Civil War;the Russian Revolution;the invention of the internet;the "
    "Protestant Reformation;the collapse of the Soviet Union;the 2008 financial crisis;"
    "the abolition of slavery;the Meiji Restoration;the partition of India;the discovery of "
    "penicillin;the Spanish flu;the Crusades;the Silk Road;the Ottoman Empire's decline;"
    "the Apollo program;the gold rush;decolonisation in Africa;the Marshall Plan;the French "
    "Revolution;the invention of the steam engine;the Cuban Missile Crisis",
    "aspect": "ordinary families;trade;women's rights;science;religion;art and music;the "
    "economy;cities;farming;education;medicine;technology;borders;language;food",
    "region": "in Europe;in Asia;in Africa;in Latin America;in the Middle East;in North "
    "America;in rural areas;in the colonies;in the following century;in the short term;"
    "over the long run;for the working class",
}

POOLS: dict[str, tuple[str, ...]] = {name: tuple(v.split(";")) for name, v in _POOLS.items()}

# (name, slot pools in order, phrasings with {0} {1} ... in slot order)
# fmt: off
FAMILIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("fix_error", ("error", "tool", "context", "tool"), (
        "How do I fix {0} in {1} {2} when it talks to {3}?",
        "{1} keeps giving me {0} {2} while connecting to {3}. How can I solve it?",
        "What causes {0} with {1} and {3} {2}, and how do I get rid of it?",
        "Getting {0} from {1} {2} whenever it calls {3} - any idea how to fix this?",
    )),
    ("howto_tool", ("task", "tool", "constraint", "usecase"), (
        "What is the best way to {0} with {1} {2} for {3}?",
        "How should I {0} in {1} {2}? It is for {3}.",
        "I need to {0} using {1} {2} for {3}. Where do I start?",
        "Building {3}: can you show me how to {0} in {1}, {2}?",
    )),
    ("compare_tools", ("tool", "tool", "usecase"), (
        "Should I use {0} or {1} for {2}?",
        "Which is better for {2}: {0} or {1}?",
        "{0} vs {1} for {2} - which one would you pick?",
        "For {2}, is {0} a better choice than {1}?",
    )),
    ("substitute", ("ingredient", "dish", "diet", "servings"), (
        "What can I use instead of {0} in {1} to make it {2} for {3}?",
        "How do I replace {0} in a {2} version of {1} for {3}?",
        "I want to make {2} {1} for {3}. What is a good substitute for {0}?",
        "Cooking for {3}: is there a {2} alternative to {0} that works in {1}?",
    )),
    ("cook_time", ("dish", "equipment", "servings"), (
        "How long should I cook {0} in {1} for {2}?",
        "What cooking time works for {0} made in {1} for {2}?",
        "I'm making {0} for {2} in {1}. How long does it take?",
        "For {2}, how many minutes does {0} need in {1}?",
    )),
    ("fix_dish", ("dish", "dish_problem", "equipment"), (
        "Why did my {0} come out {1} when I made it in {2}?",
        "My {0} keeps turning out {1} in {2}. What am I doing wrong?",
        "How do I stop my {0} from being {1} when I use {2}?",
        "What makes {0} {1} in {2}, and how can I avoid it?",
    )),
    ("best_time", ("city", "month", "traveller"), (
        "Is {1} a good time to visit {0} {2}?",
        "Would you recommend going to {0} in {1} {2}?",
        "What is {0} like in {1} for someone travelling {2}?",
        "Thinking of a trip to {0} in {1} {2}. Is that a good idea?",
    )),
    ("itinerary", ("city", "duration", "traveller"), (
        "What should I do with {1} in {0}, travelling {2}?",
        "Can you plan {1} in {0} for me, travelling {2}?",
        "I have {1} in {0} and I'm travelling {2}. What should I see?",
        "What is a good itinerary for {1} in {0} {2}?",
    )),
    ("route", ("city", "city", "month"), (
        "What is the cheapest way to get from {0} to {1} in {2}?",
        "How do I travel from {0} to {1} cheaply in {2}?",
        "Cheapest route from {0} to {1} during {2}?",
        "I need to go from {0} to {1} in {2} on a budget. What are my options?",
    )),
    ("activity", ("activity", "city", "traveller", "month"), (
        "Where can I {0} in or near {1} in {3} {2}?",
        "What are the best places to {0} around {1} {2} in {3}?",
        "I'm in {1} {2} this {3} and want to {0}. Where should I go?",
        "Any tips on where to {0} in {1} in {3} when travelling {2}?",
    )),
    ("invest", ("account", "amount", "goal", "horizon"), (
        "Is {0} a good place to keep {1} for {2} {3}?",
        "Should I put {1} into {0} if I'm saving for {2} {3}?",
        "I'm saving {1} for {2} {3}. Does {0} make sense?",
        "For {2} {3}, would {0} be a smart home for {1}?",
    )),
    ("tax", ("income", "country", "situation"), (
        "How is {0} taxed in {1} if I {2}?",
        "What tax do I pay on {0} in {1} when I {2}?",
        "I {2}. How does {1} tax my {0}?",
        "Do I owe tax on {0} in {1} given that I {2}?",
    )),
    ("fitness_plan", ("person", "exercise", "fitness_goal"), (
        "How often should {0} do {1} to {2}?",
        "What is a good {1} routine for {0} who wants to {2}?",
        "Can {0} {2} with {1}, and how many times a week?",
        "I'm {0} and I want to {2}. How much {1} should I do?",
    )),
    ("symptom", ("symptom", "exercise", "when"), (
        "Is it normal to feel {0} after {1} {2}?",
        "Why do I get {0} from {1} {2}?",
        "I feel {0} after {1} {2}. Should I be worried?",
        "What does it mean if {1} leaves me {0} {2}?",
    )),
    ("pet_issue", ("pet_age", "pet", "pet_issue", "pet_change"), (
        "Why is my {0} {1} {2} {3}?",
        "My {0} {1} has been {2} {3}. What could be wrong?",
        "What should I do about my {0} {1} {2} {3}?",
        "Is it serious that my {0} {1} is {2} {3}?",
    )),
    ("plant_issue", ("plant", "plant_problem", "place"), (
        "Why are my {0} {1} {2}?",
        "My {0} are {1} {2}. How do I save them?",
        "What makes {0} start {1} when grown {2}?",
        "How can I stop my {0} from {1} {2}?",
    )),
    ("home_repair", ("repair", "home_item", "room"), (
        "How do I {0} {1} {2}?",
        "What is the easiest way to {0} {1} {2}?",
        "Can I {0} {1} myself {2}?",
        "Step by step, how would you {0} {1} {2}?",
    )),
    ("car_issue", ("car", "car_issue", "car_when"), (
        "My {0} {1} {2}. What is causing it?",
        "Why does a {0} {1} {2}?",
        "What could be wrong if my {0} {1} {2}?",
        "Is it safe to drive a {0} that {1} {2}?",
    )),
    ("device_issue", ("device", "device_issue", "device_event"), (
        "My {0} {1} after {2}. What should I do?",
        "How do I fix a {0} that {1} since {2}?",
        "After {2} my {0} {1}. Any way to fix it?",
        "Why would a {0} suddenly be in a state where it {1} after {2}?",
    )),
    ("explain", ("concept", "audience", "style"), (
        "Can you explain {0} to {1} using {2}?",
        "How would you teach {0} to {1} with {2}?",
        "Explain {0} for {1}, please, with {2}.",
        "I need to explain {0} to {1}. Can you help with {2}?",
    )),
    ("learn_skill", ("skill", "practice", "person"), (
        "How long does it take {2} to learn {0} practising {1}?",
        "If I'm {2} and practise {0} {1}, how fast will I improve?",
        "Can {2} get good at {0} by practising {1}?",
        "What progress can {2} expect in {0} when practising {1}?",
    )),
    ("ask_boss", ("boss_ask", "work_situation", "tone"), (
        "How do I ask my boss for {0} when {1}, {2}?",
        "What is the best way to request {0} {2} given that {1}?",
        "I want {0} but {1}. How do I bring it up {2}?",
        "Can you help me ask for {0} {2}? The problem is that {1}.",
    )),
    ("history", ("event", "aspect", "region"), (
        "How did {0} change {1} {2}?",
        "What effect did {0} have on {1} {2}?",
        "In what ways was {1} transformed by {0} {2}?",
        "What was the impact of {0} on {1} {2}?",
    )),
)

# Never stored: questions unrelated to every entry of the corpus.
HELD_OUT: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("astronomy", ("month", "country"), (
        "Which planets can I see with the naked eye in {0} from {1}?",
    )),
    ("lyrics", ("skill", "audience"), (
        "Write a funny limerick about learning {0} for {1}.",
    )),
    ("translate", ("dish", "country"), (
        "What do people in {1} call {0}, and how is it pronounced?",
    )),
    ("trivia", ("pet", "city"), (
        "Is it true that the {0} was once the mascot of {1}?",
    )),
)
# fmt: on
