# ruff: noqa: E501  (fact tables: one record a line)
"""Writes the RAG corpus (corpus.jsonl) and its questions (questions.jsonl) from the fact tables
below: 202 short documents in six domains and three formats (markdown, HTML, plain text), each
with one question whose source document, and short reference answer, are known.

Run: python bench/data/rag/make_corpus.py   (the outputs are committed; rerun after edits)
"""

from __future__ import annotations

import html
import json
from pathlib import Path

HERE = Path(__file__).parent

# country, capital, currency, official language, continent, a landmark
COUNTRIES = [
    ("France", "Paris", "euro", "French", "Europe", "the Eiffel Tower"),
    ("Japan", "Tokyo", "yen", "Japanese", "Asia", "Mount Fuji"),
    ("Brazil", "Brasilia", "real", "Portuguese", "South America", "the Christ the Redeemer statue"),
    ("Egypt", "Cairo", "Egyptian pound", "Arabic", "Africa", "the pyramids of Giza"),
    ("Canada", "Ottawa", "Canadian dollar", "English and French", "North America", "Niagara Falls"),
    ("Australia", "Canberra", "Australian dollar", "English", "Oceania", "the Great Barrier Reef"),
    ("India", "New Delhi", "Indian rupee", "Hindi and English", "Asia", "the Taj Mahal"),
    ("Peru", "Lima", "sol", "Spanish and Quechua", "South America", "Machu Picchu"),
    ("Kenya", "Nairobi", "Kenyan shilling", "Swahili and English", "Africa", "the Maasai Mara"),
    ("Norway", "Oslo", "Norwegian krone", "Norwegian", "Europe", "the Geirangerfjord"),
    ("Mexico", "Mexico City", "Mexican peso", "Spanish", "North America", "Chichen Itza"),
    ("Turkey", "Ankara", "Turkish lira", "Turkish", "Europe and Asia", "the Hagia Sophia"),
    ("Thailand", "Bangkok", "baht", "Thai", "Asia", "the Grand Palace"),
    (
        "Argentina",
        "Buenos Aires",
        "Argentine peso",
        "Spanish",
        "South America",
        "the Perito Moreno Glacier",
    ),
    ("Morocco", "Rabat", "Moroccan dirham", "Arabic and Berber", "Africa", "the Hassan II Mosque"),
    ("Poland", "Warsaw", "zloty", "Polish", "Europe", "the Wieliczka Salt Mine"),
    ("Vietnam", "Hanoi", "dong", "Vietnamese", "Asia", "Ha Long Bay"),
    ("Chile", "Santiago", "Chilean peso", "Spanish", "South America", "the moai of Easter Island"),
    ("Ethiopia", "Addis Ababa", "birr", "Amharic", "Africa", "the rock churches of Lalibela"),
    ("Iceland", "Reykjavik", "Icelandic krona", "Icelandic", "Europe", "the Blue Lagoon"),
    ("South Korea", "Seoul", "won", "Korean", "Asia", "Gyeongbokgung Palace"),
    ("Nigeria", "Abuja", "naira", "English", "Africa", "Zuma Rock"),
    ("Greece", "Athens", "euro", "Greek", "Europe", "the Parthenon"),
    ("Indonesia", "Jakarta", "Indonesian rupiah", "Indonesian", "Asia", "Borobudur temple"),
    (
        "Colombia",
        "Bogota",
        "Colombian peso",
        "Spanish",
        "South America",
        "the walled city of Cartagena",
    ),
    (
        "Switzerland",
        "Bern",
        "Swiss franc",
        "German, French, Italian and Romansh",
        "Europe",
        "the Matterhorn",
    ),
    ("Cuba", "Havana", "Cuban peso", "Spanish", "North America", "the Malecon seawall"),
    ("Mongolia", "Ulaanbaatar", "tugrik", "Mongolian", "Asia", "the Gobi Desert"),
    (
        "New Zealand",
        "Wellington",
        "New Zealand dollar",
        "English and Maori",
        "Oceania",
        "Milford Sound",
    ),
    ("Ghana", "Accra", "cedi", "English", "Africa", "Cape Coast Castle"),
    ("Portugal", "Lisbon", "euro", "Portuguese", "Europe", "the Belem Tower"),
    ("Nepal", "Kathmandu", "Nepalese rupee", "Nepali", "Asia", "Mount Everest"),
    (
        "Bolivia",
        "Sucre",
        "boliviano",
        "Spanish, Quechua and Aymara",
        "South America",
        "the Uyuni salt flat",
    ),
    ("Hungary", "Budapest", "forint", "Hungarian", "Europe", "the Hungarian Parliament Building"),
    (
        "Tanzania",
        "Dodoma",
        "Tanzanian shilling",
        "Swahili and English",
        "Africa",
        "Mount Kilimanjaro",
    ),
    ("Sweden", "Stockholm", "Swedish krona", "Swedish", "Europe", "the Vasa Museum"),
    ("Pakistan", "Islamabad", "Pakistani rupee", "Urdu and English", "Asia", "the Badshahi Mosque"),
    ("Jordan", "Amman", "Jordanian dinar", "Arabic", "Asia", "the rock city of Petra"),
    ("Czech Republic", "Prague", "Czech koruna", "Czech", "Europe", "Charles Bridge"),
    (
        "Philippines",
        "Manila",
        "Philippine peso",
        "Filipino and English",
        "Asia",
        "the Chocolate Hills",
    ),
    ("Italy", "Rome", "euro", "Italian", "Europe", "the Colosseum"),
    ("Spain", "Madrid", "euro", "Spanish", "Europe", "the Sagrada Familia"),
    ("Germany", "Berlin", "euro", "German", "Europe", "the Brandenburg Gate"),
    ("China", "Beijing", "renminbi", "Mandarin Chinese", "Asia", "the Great Wall"),
    ("Russia", "Moscow", "ruble", "Russian", "Europe and Asia", "Red Square"),
    (
        "South Africa",
        "Pretoria",
        "rand",
        "Zulu, Xhosa, English and others",
        "Africa",
        "Table Mountain",
    ),
    ("Ireland", "Dublin", "euro", "Irish and English", "Europe", "the Cliffs of Moher"),
    ("Netherlands", "Amsterdam", "euro", "Dutch", "Europe", "the Keukenhof tulip gardens"),
    (
        "Finland",
        "Helsinki",
        "euro",
        "Finnish and Swedish",
        "Europe",
        "the Suomenlinna sea fortress",
    ),
    ("Saudi Arabia", "Riyadh", "Saudi riyal", "Arabic", "Asia", "the Edge of the World cliffs"),
    ("Cambodia", "Phnom Penh", "riel", "Khmer", "Asia", "Angkor Wat"),
    (
        "Uruguay",
        "Montevideo",
        "Uruguayan peso",
        "Spanish",
        "South America",
        "the beaches of Punta del Este",
    ),
]

# name, symbol, atomic number, group or category, a use or fact
ELEMENTS = [
    ("Hydrogen", "H", 1, "nonmetal", "it is the most abundant element in the universe"),
    ("Helium", "He", 2, "noble gas", "it is used to cool the magnets of MRI scanners"),
    ("Lithium", "Li", 3, "alkali metal", "it is the key metal in rechargeable batteries"),
    ("Carbon", "C", 6, "nonmetal", "its crystal forms include diamond and graphite"),
    ("Nitrogen", "N", 7, "nonmetal", "it makes up about 78 percent of the air"),
    ("Oxygen", "O", 8, "nonmetal", "it is needed by animals for respiration"),
    ("Fluorine", "F", 9, "halogen", "it is added to toothpaste as fluoride to protect teeth"),
    ("Neon", "Ne", 10, "noble gas", "it glows red-orange in advertising signs"),
    ("Sodium", "Na", 11, "alkali metal", "it combines with chlorine to form table salt"),
    ("Magnesium", "Mg", 12, "alkaline earth metal", "it burns with a brilliant white flame"),
    (
        "Aluminium",
        "Al",
        13,
        "post-transition metal",
        "it is light and used for drink cans and aircraft",
    ),
    ("Silicon", "Si", 14, "metalloid", "it is the base material of computer chips"),
    ("Phosphorus", "P", 15, "nonmetal", "its white form glows in the dark and ignites in air"),
    ("Sulfur", "S", 16, "nonmetal", "it is a yellow solid that smells when burned"),
    ("Chlorine", "Cl", 17, "halogen", "it is used to disinfect swimming pools"),
    ("Argon", "Ar", 18, "noble gas", "it fills incandescent light bulbs to protect the filament"),
    ("Potassium", "K", 19, "alkali metal", "bananas are a well known dietary source of it"),
    ("Calcium", "Ca", 20, "alkaline earth metal", "it is the main mineral of bones and teeth"),
    ("Titanium", "Ti", 22, "transition metal", "it is strong, light and used in hip implants"),
    ("Chromium", "Cr", 24, "transition metal", "it gives stainless steel its resistance to rust"),
    ("Iron", "Fe", 26, "transition metal", "it is the main component of steel"),
    ("Cobalt", "Co", 27, "transition metal", "it gives cobalt glass its deep blue colour"),
    ("Nickel", "Ni", 28, "transition metal", "it is used in coins and in stainless steel"),
    ("Copper", "Cu", 29, "transition metal", "it is used for electrical wiring"),
    (
        "Zinc",
        "Zn",
        30,
        "transition metal",
        "it coats steel to stop it rusting, a process called galvanising",
    ),
    ("Arsenic", "As", 33, "metalloid", "it was a notorious poison in history"),
    (
        "Bromine",
        "Br",
        35,
        "halogen",
        "it is one of only two elements that are liquid at room temperature",
    ),
    ("Krypton", "Kr", 36, "noble gas", "it was used to define the metre between 1960 and 1983"),
    ("Silver", "Ag", 47, "transition metal", "it conducts electricity better than any other metal"),
    ("Tin", "Sn", 50, "post-transition metal", "it is alloyed with copper to make bronze"),
    ("Iodine", "I", 53, "halogen", "it is added to salt to prevent goitre"),
    ("Xenon", "Xe", 54, "noble gas", "it is used in bright car headlamps and ion thrusters"),
    ("Tungsten", "W", 74, "transition metal", "it has the highest melting point of all metals"),
    ("Platinum", "Pt", 78, "transition metal", "it is used in catalytic converters of cars"),
    (
        "Gold",
        "Au",
        79,
        "transition metal",
        "it does not tarnish and has been used as money for millennia",
    ),
    (
        "Mercury",
        "Hg",
        80,
        "transition metal",
        "it is the only metal that is liquid at room temperature",
    ),
    ("Lead", "Pb", 82, "post-transition metal", "it was used in water pipes by the Romans"),
    ("Radon", "Rn", 86, "noble gas", "it is a radioactive gas that can collect in basements"),
    ("Uranium", "U", 92, "actinide", "it is the fuel of most nuclear power stations"),
    ("Plutonium", "Pu", 94, "actinide", "it powered the radioisotope generators of space probes"),
]

# language, designer, year, one trait
LANGUAGES = [
    ("Python", "Guido van Rossum", 1991, "uses indentation to delimit blocks"),
    ("C", "Dennis Ritchie", 1972, "was created to write the Unix operating system"),
    ("Java", "James Gosling", 1995, "runs on the Java Virtual Machine"),
    ("JavaScript", "Brendan Eich", 1995, "was written in ten days for the Netscape browser"),
    ("Rust", "Graydon Hoare", 2010, "guarantees memory safety through ownership and borrowing"),
    (
        "Go",
        "Robert Griesemer, Rob Pike and Ken Thompson",
        2009,
        "has goroutines for lightweight concurrency",
    ),
    (
        "Haskell",
        "a committee of researchers",
        1990,
        "is a purely functional language with lazy evaluation",
    ),
    ("Lisp", "John McCarthy", 1958, "writes code as nested lists called s-expressions"),
    (
        "Fortran",
        "John Backus",
        1957,
        "was the first widely used high-level language, built for scientific computing",
    ),
    ("COBOL", "a committee influenced by Grace Hopper", 1959, "still runs many banking systems"),
    ("Ruby", "Yukihiro Matsumoto", 1995, "became popular through the Rails web framework"),
    ("PHP", "Rasmus Lerdorf", 1995, "powers the WordPress publishing platform"),
    ("Swift", "Chris Lattner", 2014, "is Apple's language for iPhone apps"),
    ("Kotlin", "JetBrains", 2011, "is the preferred language for Android apps"),
    (
        "Erlang",
        "Joe Armstrong",
        1986,
        "was built at Ericsson for fault-tolerant telephone switches",
    ),
    (
        "Prolog",
        "Alain Colmerauer",
        1972,
        "is a logic programming language based on facts and rules",
    ),
    ("Smalltalk", "Alan Kay", 1972, "made everything an object, even numbers and classes"),
    ("Pascal", "Niklaus Wirth", 1970, "was designed to teach structured programming"),
    ("Perl", "Larry Wall", 1987, "is famous for its powerful regular expressions"),
    (
        "Scala",
        "Martin Odersky",
        2004,
        "mixes object-oriented and functional programming on the JVM",
    ),
    (
        "Julia",
        "Jeff Bezanson, Stefan Karpinski, Viral Shah and Alan Edelman",
        2012,
        "targets fast numerical computing",
    ),
    ("Elixir", "José Valim", 2012, "runs on the Erlang virtual machine BEAM"),
    ("TypeScript", "Anders Hejlsberg", 2012, "adds static types to JavaScript"),
    ("C++", "Bjarne Stroustrup", 1985, "added classes to C"),
    ("R", "Ross Ihaka and Robert Gentleman", 1993, "is used by statisticians for data analysis"),
    (
        "Lua",
        "Roberto Ierusalimschy",
        1993,
        "is embedded as a scripting language in many video games",
    ),
    ("OCaml", "Xavier Leroy and colleagues at INRIA", 1996, "has a powerful static type inference"),
    (
        "Ada",
        "Jean Ichbiah",
        1980,
        "was commissioned by the US Department of Defense and named after Ada Lovelace",
    ),
    (
        "BASIC",
        "John Kemeny and Thomas Kurtz",
        1964,
        "was designed at Dartmouth College for beginners",
    ),
    (
        "Zig",
        "Andrew Kelley",
        2016,
        "aims to be a simpler replacement for C with no hidden control flow",
    ),
]

# invention, inventor, year, what it changed
INVENTIONS = [
    (
        "printing press with movable type",
        "Johannes Gutenberg",
        1440,
        "made books cheap and spread literacy in Europe",
    ),
    ("telephone", "Alexander Graham Bell", 1876, "carried the human voice over wires"),
    ("light bulb", "Thomas Edison", 1879, "made practical electric lighting possible in homes"),
    (
        "airplane",
        "Orville and Wilbur Wright",
        1903,
        "achieved the first powered, controlled flight at Kitty Hawk",
    ),
    ("penicillin", "Alexander Fleming", 1928, "became the first widely used antibiotic"),
    (
        "World Wide Web",
        "Tim Berners-Lee",
        1989,
        "linked documents across the internet with hypertext",
    ),
    (
        "steam engine improvements",
        "James Watt",
        1769,
        "added a separate condenser that powered the Industrial Revolution",
    ),
    (
        "dynamite",
        "Alfred Nobel",
        1867,
        "made blasting safer in mines; its profits fund the Nobel Prizes",
    ),
    ("telescope improvements", "Galileo Galilei", 1609, "revealed the moons of Jupiter"),
    ("vaccine against smallpox", "Edward Jenner", 1796, "used cowpox to give immunity to smallpox"),
    (
        "radio transmission",
        "Guglielmo Marconi",
        1895,
        "sent wireless signals across long distances",
    ),
    (
        "transistor",
        "John Bardeen, Walter Brattain and William Shockley",
        1947,
        "replaced vacuum tubes in electronics",
    ),
    (
        "periodic table",
        "Dmitri Mendeleev",
        1869,
        "arranged elements by atomic weight and predicted missing ones",
    ),
    (
        "theory of evolution by natural selection",
        "Charles Darwin",
        1859,
        "explained how species change over time",
    ),
    ("pasteurisation", "Louis Pasteur", 1864, "killed microbes in milk and wine by heating"),
    (
        "alternating current motor",
        "Nikola Tesla",
        1888,
        "made long-distance power distribution practical",
    ),
    ("X-rays", "Wilhelm Röntgen", 1895, "let doctors see bones inside the body"),
    ("radioactivity research", "Marie Curie", 1898, "discovered polonium and radium"),
    (
        "DNA double helix model",
        "James Watson and Francis Crick",
        1953,
        "showed how genetic information is copied",
    ),
    ("phonograph", "Thomas Edison", 1877, "recorded and played back sound"),
    ("mechanical calculator", "Blaise Pascal", 1642, "added and subtracted numbers with gears"),
    (
        "analytical engine design",
        "Charles Babbage",
        1837,
        "described a general-purpose mechanical computer",
    ),
    ("barometer", "Evangelista Torricelli", 1643, "measured air pressure with a column of mercury"),
    (
        "laws of motion",
        "Isaac Newton",
        1687,
        "described force, mass and acceleration in the Principia",
    ),
    (
        "general relativity",
        "Albert Einstein",
        1915,
        "described gravity as the curvature of spacetime",
    ),
    ("cotton gin", "Eli Whitney", 1793, "separated cotton fibres from their seeds quickly"),
    ("safety elevator", "Elisha Otis", 1852, "had a brake that stopped the car if the cable broke"),
    ("jet engine", "Frank Whittle", 1930, "led to fast passenger jet travel"),
    ("polio vaccine", "Jonas Salk", 1955, "greatly reduced polio cases worldwide"),
    (
        "lithium-ion battery",
        "John Goodenough, Stanley Whittingham and Akira Yoshino",
        1985,
        "powers phones and electric cars",
    ),
]

# animal, class, habitat, diet, distinctive trait
ANIMALS = [
    (
        "Axolotl",
        "amphibian",
        "lakes near Mexico City",
        "worms and small fish",
        "can regrow lost limbs and even parts of its heart",
    ),
    (
        "Platypus",
        "mammal",
        "rivers of eastern Australia",
        "insect larvae and shrimp",
        "is a mammal that lays eggs and senses prey by electroreception",
    ),
    (
        "Emperor penguin",
        "bird",
        "the sea ice of Antarctica",
        "fish and krill",
        "the male incubates the egg on its feet through the winter",
    ),
    (
        "Cheetah",
        "mammal",
        "the savannas of Africa",
        "gazelles and antelopes",
        "is the fastest land animal, reaching about 110 km per hour",
    ),
    (
        "Octopus",
        "cephalopod",
        "oceans worldwide",
        "crabs and shellfish",
        "has three hearts and blue blood",
    ),
    (
        "Giant panda",
        "mammal",
        "the mountain forests of central China",
        "bamboo",
        "spends up to 14 hours a day eating bamboo",
    ),
    (
        "Monarch butterfly",
        "insect",
        "North America",
        "milkweed as a caterpillar",
        "migrates thousands of kilometres to Mexico each autumn",
    ),
    (
        "Blue whale",
        "mammal",
        "oceans worldwide",
        "krill",
        "is the largest animal ever known to have lived",
    ),
    (
        "Komodo dragon",
        "reptile",
        "a few Indonesian islands",
        "deer and pigs",
        "is the largest living lizard",
    ),
    (
        "Arctic tern",
        "bird",
        "the Arctic and Antarctic coasts",
        "small fish",
        "makes the longest migration of any animal, pole to pole",
    ),
    (
        "Tardigrade",
        "micro-animal",
        "moss and lichen everywhere",
        "plant cells and bacteria",
        "survives drying out, freezing and even the vacuum of space",
    ),
    (
        "Honey bee",
        "insect",
        "hives in meadows and gardens",
        "nectar and pollen",
        "communicates the direction of flowers with a waggle dance",
    ),
    (
        "Chameleon",
        "reptile",
        "forests of Madagascar and Africa",
        "insects",
        "changes colour and moves its eyes independently",
    ),
    (
        "Narwhal",
        "mammal",
        "Arctic waters",
        "fish and squid",
        "has a long spiral tusk that is actually a tooth",
    ),
    (
        "Electric eel",
        "fish",
        "rivers of the Amazon basin",
        "fish and amphibians",
        "stuns prey with discharges of up to 800 volts",
    ),
    (
        "Kangaroo",
        "mammal",
        "grasslands of Australia",
        "grasses",
        "carries its young in a pouch and moves by hopping",
    ),
    (
        "Bald eagle",
        "bird",
        "lakes and coasts of North America",
        "fish",
        "is the national bird of the United States",
    ),
    (
        "Leafcutter ant",
        "insect",
        "rainforests of Central and South America",
        "a fungus it farms",
        "grows fungus gardens on the leaves it cuts",
    ),
    (
        "Sloth",
        "mammal",
        "rainforests of Central and South America",
        "leaves",
        "moves so slowly that algae grow on its fur",
    ),
    (
        "Great white shark",
        "fish",
        "coastal oceans worldwide",
        "seals and fish",
        "can smell a drop of blood in a large volume of water",
    ),
    ("Hummingbird", "bird", "the Americas", "nectar", "is the only bird that can fly backwards"),
    (
        "Poison dart frog",
        "amphibian",
        "rainforests of Central and South America",
        "ants and mites",
        "has bright colours that warn of its toxic skin",
    ),
    (
        "Elephant",
        "mammal",
        "savannas and forests of Africa and Asia",
        "grasses, bark and fruit",
        "uses its trunk to drink, smell and greet others",
    ),
    (
        "Firefly",
        "insect",
        "meadows and forests",
        "nectar and small insects",
        "produces light by bioluminescence to attract mates",
    ),
    (
        "Snow leopard",
        "mammal",
        "the mountains of Central Asia",
        "wild sheep and goats",
        "uses its long thick tail for balance and warmth",
    ),
    (
        "Mantis shrimp",
        "crustacean",
        "tropical reefs",
        "crabs and snails",
        "strikes with a club as fast as a bullet",
    ),
    (
        "Albatross",
        "bird",
        "the Southern Ocean",
        "squid and fish",
        "has the largest wingspan of any living bird",
    ),
    (
        "Capybara",
        "mammal",
        "wetlands of South America",
        "grasses and water plants",
        "is the largest rodent in the world",
    ),
    (
        "Seahorse",
        "fish",
        "shallow tropical seas",
        "tiny crustaceans",
        "the male carries the eggs in a brood pouch",
    ),
    (
        "Red fox",
        "mammal",
        "forests, grasslands and cities of the northern hemisphere",
        "rodents, rabbits and fruit",
        "uses the Earth's magnetic field to pounce on prey",
    ),
]

# body, type, a number, a fact
SPACE = [
    ("Mercury", "planet", "the closest planet to the Sun", "a year there lasts only 88 Earth days"),
    (
        "Venus",
        "planet",
        "the hottest planet",
        "its thick carbon dioxide atmosphere traps heat above 460 degrees Celsius",
    ),
    (
        "Mars",
        "planet",
        "the red planet",
        "it has two small moons, Phobos and Deimos, and the volcano Olympus Mons",
    ),
    ("Jupiter", "planet", "the largest planet", "its Great Red Spot is a storm larger than Earth"),
    ("Saturn", "planet", "the ringed planet", "its rings are made mostly of ice particles"),
    (
        "Uranus",
        "planet",
        "the tilted planet",
        "it rotates on its side with an axial tilt of about 98 degrees",
    ),
    ("Neptune", "planet", "the windiest planet", "its winds reach more than 2,000 km per hour"),
    (
        "Pluto",
        "dwarf planet",
        "a dwarf planet of the Kuiper belt",
        "the New Horizons probe revealed a heart-shaped glacier in 2015",
    ),
    ("Europa", "moon of Jupiter", "an icy moon", "it may hide a salty ocean beneath its ice shell"),
    (
        "Titan",
        "moon of Saturn",
        "Saturn's largest moon",
        "it has lakes of liquid methane and a thick nitrogen atmosphere",
    ),
    (
        "Io",
        "moon of Jupiter",
        "the most volcanic body in the solar system",
        "tidal heating from Jupiter drives hundreds of volcanoes",
    ),
    (
        "Ganymede",
        "moon of Jupiter",
        "the largest moon in the solar system",
        "it is bigger than the planet Mercury and has its own magnetic field",
    ),
    (
        "Enceladus",
        "moon of Saturn",
        "a small icy moon",
        "geysers at its south pole spray water into space",
    ),
    (
        "Triton",
        "moon of Neptune",
        "Neptune's largest moon",
        "it orbits backwards, opposite to Neptune's rotation",
    ),
    (
        "Ceres",
        "dwarf planet",
        "the largest object in the asteroid belt",
        "the Dawn spacecraft found bright salt deposits in its craters",
    ),
    (
        "Halley's Comet",
        "comet",
        "a periodic comet",
        "it returns to the inner solar system about every 76 years",
    ),
    (
        "The Sun",
        "star",
        "a yellow dwarf star",
        "it fuses hydrogen into helium in its core at about 15 million degrees",
    ),
    (
        "The Moon",
        "moon of Earth",
        "Earth's only natural satellite",
        "its gravity causes most of the ocean tides",
    ),
    (
        "Proxima Centauri",
        "star",
        "the nearest star to the Sun",
        "it is a red dwarf about 4.2 light-years away",
    ),
    (
        "Andromeda Galaxy",
        "galaxy",
        "the nearest large galaxy",
        "it is about 2.5 million light-years away and approaching the Milky Way",
    ),
]


def country_docs() -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for name, capital, currency, language, continent, landmark in COUNTRIES:
        body = [
            f"{name} is a country in {continent}. Its capital city is {capital}.",
            f"The currency used in {name} is the {currency}, and the official language is {language}.",
            f"Visitors often come to see {landmark}.",
        ]
        out.append(
            (f"country-{slug(name)}", name, body, f"What is the capital of {name}?", capital)
        )
    return out


def element_docs() -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for name, symbol, number, category, fact in ELEMENTS:
        body = [
            f"{name} is a chemical element with the symbol {symbol} and atomic number {number}.",
            f"It belongs to the {category}s of the periodic table.",
            f"A notable fact: {fact}.",
        ]
        out.append(
            (f"element-{slug(name)}", name, body, f"Which element has the symbol {symbol}?", name)
        )
    return out


def language_docs() -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for name, designer, year, trait in LANGUAGES:
        body = [
            f"{name} is a programming language designed by {designer}, first released in {year}.",
            f"The language {trait}.",
        ]
        q = f"Who designed the {name} programming language?"
        out.append((f"lang-{slug(name)}", f"The {name} language", body, q, designer))
    return out


def invention_docs() -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for thing, who, year, effect in INVENTIONS:
        body = [
            f"The {thing} is credited to {who}, around {year}.",
            f"It {effect}.",
        ]
        title = thing[0].upper() + thing[1:]
        out.append(
            (f"invention-{slug(thing)}", title, body, f"Who is credited with the {thing}?", who)
        )
    return out


def animal_docs() -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for name, kind, habitat, diet, trait in ANIMALS:
        body = [
            f"The {name.lower()} is a {kind} that lives in {habitat}.",
            f"It feeds on {diet}.",
            f"Remarkably, it {trait}.",
        ]
        out.append(
            (f"animal-{slug(name)}", name, body, f"Where does the {name.lower()} live?", habitat)
        )
    return out


def space_docs() -> list[tuple[str, str, list[str], str, str]]:
    out = []
    for name, kind, label, fact in SPACE:
        body = [f"{name} is a {kind}, known as {label}.", f"Notably, {fact}."]
        out.append((f"space-{slug(name)}", name, body, f"Which {kind} is known as {label}?", name))
    return out


def slug(text: str) -> str:
    text = text.replace("++", "pp")
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def render(fmt: str, title: str, body: list[str]) -> str:
    if fmt == "markdown":
        return f"# {title}\n\n" + "\n\n".join(body) + "\n"
    if fmt == "html":
        paras = "".join(f"<p>{html.escape(p)}</p>" for p in body)
        return f"<html><head><title>{html.escape(title)}</title></head><body>{paras}</body></html>"
    return title + "\n\n" + "\n".join(body) + "\n"


def main() -> None:
    docs = [
        *country_docs(),
        *element_docs(),
        *language_docs(),
        *invention_docs(),
        *animal_docs(),
        *space_docs(),
    ]
    formats = ("markdown", "html", "txt")
    with (
        (HERE / "corpus.jsonl").open("w", encoding="utf-8") as corpus,
        (HERE / "questions.jsonl").open("w", encoding="utf-8") as questions,
    ):
        for i, (doc_id, title, body, question, answer) in enumerate(docs):
            fmt = formats[i % len(formats)]
            record = {
                "id": doc_id,
                "format": fmt,
                "title": title,
                "content": render(fmt, title, body),
            }
            corpus.write(json.dumps(record, ensure_ascii=False) + "\n")
            qa = {"question": question, "document_id": doc_id, "answer": answer}
            questions.write(json.dumps(qa, ensure_ascii=False) + "\n")
    print(f"{len(docs)} documents, {len(docs)} questions")


if __name__ == "__main__":
    main()
