// The playground: one chat turn, streamed over SSE from /v1/chat/completions.

import { bearer, errorText, savedKey } from "./api.js";

const $ = (id) => document.getElementById(id);
let controller = null;

export function setModels(models) {
  const select = $("pg-model");
  if (select.options.length === models.length) return;
  select.replaceChildren(
    ...models.map((m) => {
      const option = document.createElement("option");
      option.value = option.textContent = m.name;
      option.selected = m.default;
      return option;
    }),
  );
}

export function initPlayground() {
  $("pg-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("pg-stop").addEventListener("click", () => controller && controller.abort());
}

function finish(stats) {
  $("pg-send").disabled = false;
  $("pg-stop").disabled = true;
  $("playground").dataset.state = "done";
  if (stats) $("pg-stats").textContent = stats;
  controller = null;
}

async function send() {
  const output = $("pg-output");
  output.textContent = "";
  $("pg-error").textContent = "";
  $("pg-stats").textContent = "";
  $("pg-send").disabled = true;
  $("pg-stop").disabled = false;
  $("playground").dataset.state = "streaming";
  controller = new AbortController();
  const body = {
    model: $("pg-model").value,
    messages: [{ role: "user", content: $("pg-message").value }],
    max_tokens: Number($("pg-max-tokens").value) || 64,
    stream: true,
    stream_options: { include_usage: true },
  };
  const temperature = $("pg-temperature").value.trim();
  if (temperature !== "") body.temperature = Number(temperature);
  const key = $("pg-key").value.trim() || savedKey();
  const started = performance.now();
  try {
    const resp = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...bearer(key) },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!resp.ok) {
      $("pg-error").textContent = await errorText(resp);
      return finish(null);
    }
    const result = await readStream(resp.body, (text) => (output.textContent += text));
    const total = (performance.now() - started) / 1000;
    const ttft = result.firstAt === null ? "–" : `${Math.round(result.firstAt - started)} ms`;
    const tokens = result.usage ? result.usage.completion_tokens : result.pieces;
    finish(`TTFT ${ttft} · ${tokens} tokens · ${total.toFixed(2)} s`);
  } catch (err) {
    $("pg-error").textContent = err.name === "AbortError" ? "stopped" : String(err.message || err);
    finish(null);
  }
}

// Read `data:` events until [DONE]; calls onText with each content delta.
async function readStream(stream, onText) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const result = { firstAt: null, usage: null, pieces: 0 };
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return result;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return result;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        if (chunk.usage) result.usage = chunk.usage;
        for (const choice of chunk.choices || []) {
          const text = choice.delta && choice.delta.content;
          if (!text) continue;
          if (result.firstAt === null) result.firstAt = performance.now();
          result.pieces += 1;
          onText(text);
        }
      }
    }
  }
}
