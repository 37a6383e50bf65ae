/* The cost explorer of "The Price of a Token", running in the reader's browser.
 *
 * This script knows no physics. Every number it shows or draws was computed by the book's
 * Python library, tokenmath, when the site was built: lib/tokenmath/webexplorer.py writes
 * index.js (menus, grids, prices) and tables/<model>__<accelerator>.js (every weight format,
 * KV-cache format, assumption set, context and batch of the grid) beside this file. The
 * script decodes those tables, looks up the numbers for the chosen controls, formats them
 * and draws them as SVG. Its only arithmetic on a value is a change of units, GPU-
 * microseconds per token to USD per million tokens, by a factor the library computed.
 *
 * The sliders stop only at grid points, so every readout is a stored library number. Between
 * grid points a curve is drawn as a straight segment on log-log axes: that is display, not
 * physics (the curves also pass through the sweet spot, stored for each context).
 *
 * Loaded only on the page that holds <div id="tm-web-explorer"> (tools/web_explorer.py).
 * Tables are loaded with <script> tags, not fetch(), so the page also works from file://.
 */
(function () {
  "use strict";

  const SCRIPT_URL = document.currentScript && document.currentScript.src;
  const ROOT_ID = "tm-web-explorer";

  // Okabe-Ito colours and line styles, as in tokenmath.plots (TERM_STYLE, REGION_COLOR).
  const STYLE = {
    weights: { color: "#0072B2", dash: "6 4", width: 1.6 },
    kv: { color: "#D55E00", dash: "2 3", width: 2.0 },
    compute: { color: "#009E73", dash: "7 3 2 3", width: 1.6 },
    total: { color: "#000000", dash: "", width: 2.4 },
  };
  const REGION_FILL = { memory: "rgba(86,180,233,0.16)", compute: "rgba(230,159,0,0.16)" };

  // Chart geometry (SVG user units; the SVG scales to the column's width).
  const W = 460;
  const H = 320;
  const PAD = { left: 62, right: 14, top: 14, bottom: 46 };

  const fmt4 = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 4 });
  const fmtInt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

  /** A number with 4 significant figures and thousands separators: 5,356, 74.79, 0.4012. */
  function num(v) {
    return fmt4.format(v);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  // ------------------------------------------------------------------ tables

  const loading = {};
  let reloads = 0; // bumped by Explorer.forgetTables, to load a table afresh

  /** The table of one model on one accelerator (loaded once, by a script tag). */
  function loadTable(index, key) {
    const tables = () => window.TM_EXPLORER_TABLES || {};
    if (tables()[key]) return Promise.resolve(tables()[key]);
    if (!loading[key]) {
      loading[key] = new Promise((resolve, reject) => {
        const tag = document.createElement("script");
        const query = reloads ? `?reload=${reloads}` : "";
        tag.src = new URL(`tables/${index.tables[key]}${query}`, SCRIPT_URL).href;
        tag.onload = () =>
          tables()[key] ? resolve(tables()[key]) : reject(new Error(`no table in ${tag.src}`));
        tag.onerror = () => {
          delete loading[key];
          reject(new Error(`could not load ${tag.src}`));
        };
        document.head.appendChild(tag);
      });
    }
    return loading[key];
  }

  /** Undo the delta-coded quantised logarithms of webexplorer.encode_curve. */
  function decodeCurve(codes, stepsPerDecade) {
    const out = new Float64Array(codes.length);
    let q = 0;
    for (let i = 0; i < codes.length; i += 1) {
      q += codes[i];
      out[i] = Math.pow(10, q / stepsPerDecade);
    }
    return out;
  }

  /** One case of a table, decoded once and kept (following "same_as" links). */
  function decodedCase(index, table, key) {
    table.decoded = table.decoded || {};
    if (table.decoded[key]) return table.decoded[key];
    let raw = table.cases[key];
    while (raw && raw.same_as) raw = table.cases[raw.same_as];
    if (!raw) return null;
    const steps = index.log_steps_per_decade;
    const c = Object.assign({}, raw, {
      cost_us: raw.cost_us.map((row) => decodeCurve(row, steps)),
      step_ms: raw.step_ms.map((row) => decodeCurve(row, steps)),
      weights_us: decodeCurve(raw.weights_us, steps),
    });
    // Axis ranges fixed for the whole case, so the axes stay put while context and batch move.
    c.costRange = decades(
      Math.min(...c.floor_us.filter((v) => v > 0)) / 2,
      Math.max(...c.cost_us.map((row) => row[0])) * 2,
    );
    const steps_ = c.step_ms.flatMap((row) => Array.from(row));
    c.stepRange = decades(Math.min(...steps_) / 1.5, Math.max(...steps_) * 1.5);
    table.decoded[key] = c;
    return c;
  }

  /** Whole decades around [lo, hi]. */
  function decades(lo, hi) {
    const a = Math.floor(Math.log10(lo));
    const b = Math.max(Math.ceil(Math.log10(hi)), a + 1);
    return [Math.pow(10, a), Math.pow(10, b)];
  }

  // ------------------------------------------------------------------ drawing

  /** A log scale from [lo, hi] to pixels [p0, p1]. */
  function logScale(lo, hi, p0, p1) {
    const a = Math.log10(lo);
    const span = Math.log10(hi) - a;
    return (v) => p0 + ((Math.log10(v) - a) / span) * (p1 - p0);
  }

  function tickLabel(v) {
    const n = Math.round(Math.log10(v));
    if (n >= 9 || n <= -4) return `1e${n}`;
    if (n >= 6) return `${Math.pow(10, n - 6)}M`;
    if (n >= 3) return `${Math.pow(10, n - 3)}k`;
    if (n >= 0) return String(Math.pow(10, n));
    return Math.pow(10, n).toFixed(-n);
  }

  /** Grid, ticks and labels of a log-log panel. */
  function axes(x, y, xr, yr, xlabel, ylabel) {
    const left = PAD.left;
    const right = W - PAD.right;
    const top = PAD.top;
    const bottom = H - PAD.bottom;
    const parts = [];
    for (let e = Math.round(Math.log10(xr[0])); e <= Math.round(Math.log10(xr[1])); e += 1) {
      const v = Math.pow(10, e);
      const px = x(v).toFixed(1);
      parts.push(`<line class="tm-x-grid" x1="${px}" x2="${px}" y1="${top}" y2="${bottom}"/>`);
      parts.push(`<text class="tm-x-tick" x="${px}" y="${bottom + 14}" text-anchor="middle">${tickLabel(v)}</text>`);
      for (let m = 2; m < 10 && e < Math.round(Math.log10(xr[1])); m += 1) {
        const mx = x(m * v).toFixed(1);
        parts.push(`<line class="tm-x-minor" x1="${mx}" x2="${mx}" y1="${bottom}" y2="${bottom - 4}"/>`);
      }
    }
    for (let e = Math.round(Math.log10(yr[0])); e <= Math.round(Math.log10(yr[1])); e += 1) {
      const v = Math.pow(10, e);
      const py = y(v).toFixed(1);
      parts.push(`<line class="tm-x-grid" x1="${left}" x2="${right}" y1="${py}" y2="${py}"/>`);
      parts.push(`<text class="tm-x-tick" x="${left - 5}" y="${py}" dy="0.32em" text-anchor="end">${tickLabel(v)}</text>`);
    }
    parts.push(`<rect class="tm-x-frame" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`);
    parts.push(`<text class="tm-x-label" x="${(left + right) / 2}" y="${H - 8}" text-anchor="middle">${xlabel}</text>`);
    parts.push(`<text class="tm-x-label" transform="translate(14 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${ylabel}</text>`);
    return parts.join("");
  }

  function path(x, y, xs, ys, style, cls) {
    let d = "";
    for (let i = 0; i < xs.length; i += 1) {
      d += `${i ? "L" : "M"}${x(xs[i]).toFixed(1)} ${y(ys[i]).toFixed(1)}`;
    }
    const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : "";
    return `<path class="${cls}" d="${d}" fill="none" stroke="${style.color}" stroke-width="${style.width}"${dash}/>`;
  }

  /** xs, ys of a grid curve with the stored sweet-spot point inserted in its place. */
  function withSweetSpot(batches, values, spot, atSpot) {
    const xs = Array.from(batches);
    const ys = Array.from(values);
    if (spot !== null && atSpot !== null && spot > xs[0] && spot < xs[xs.length - 1]) {
      const i = xs.findIndex((b) => b > spot);
      xs.splice(i, 0, spot);
      ys.splice(i, 0, atSpot);
    }
    return [xs, ys];
  }

  /** Region shading, the memory limit and the sweet-spot line: the same on both panels. */
  function backdrop(x, xr, spot, fits, gpus, clipId) {
    const top = PAD.top;
    const bottom = H - PAD.bottom;
    const left = PAD.left;
    const right = W - PAD.right;
    const parts = [];
    const split = spot === null ? right : Math.min(Math.max(x(Math.max(spot, xr[0])), left), right);
    parts.push(`<rect fill="${REGION_FILL.memory}" x="${left}" y="${top}" width="${split - left}" height="${bottom - top}"/>`);
    if (split < right) {
      parts.push(`<rect fill="${REGION_FILL.compute}" x="${split}" y="${top}" width="${right - split}" height="${bottom - top}"/>`);
    }
    if (split - left > 90) {
      parts.push(`<text class="tm-x-region" x="${left + 6}" y="${top + 14}">memory-bound</text>`);
    }
    if (right - split > 90) {
      parts.push(`<text class="tm-x-region" x="${right - 6}" y="${top + 14}" text-anchor="end">compute-bound</text>`);
    }
    if (fits !== null && fits < xr[1]) {
      const fx = fits >= xr[0] ? x(fits) : left;
      parts.push(`<rect fill="url(#${clipId}-hatch)" x="${fx}" y="${top}" width="${right - fx}" height="${bottom - top}"/>`);
      parts.push(`<line class="tm-x-limit" x1="${fx}" x2="${fx}" y1="${top}" y2="${bottom}"/>`);
      const label = fits >= 1 ? `memory full on ${gpus} GPU${gpus > 1 ? "s" : ""}` : "weights do not fit";
      const anchor = right - fx > 130 ? ["start", fx + 4] : ["end", fx - 4];
      parts.push(`<text class="tm-x-note-text" x="${anchor[1]}" y="${bottom - 8}" text-anchor="${anchor[0]}">${label}</text>`);
    }
    if (spot !== null && spot >= xr[0] && spot <= xr[1]) {
      const sx = x(spot).toFixed(1);
      parts.push(`<line class="tm-x-spot" x1="${sx}" x2="${sx}" y1="${top}" y2="${bottom}"/>`);
      const anchor = right - x(spot) > 110 ? ["start", x(spot) + 4] : ["end", x(spot) - 4];
      parts.push(`<text class="tm-x-note-text" x="${anchor[1].toFixed(1)}" y="${top + 30}" text-anchor="${anchor[0]}">sweet spot</text>`);
    }
    return parts.join("");
  }

  function marker(x, y, b, v, yr) {
    const px = x(b);
    const py = y(Math.min(Math.max(v, yr[0]), yr[1]));
    const anchor = W - PAD.right - px > 80 ? ["start", px + 8] : ["end", px - 8];
    const ly = py - 8 < PAD.top + 12 ? py + 18 : py - 8; // below the point near the top
    return (
      `<circle class="tm-x-marker" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="5"/>` +
      `<text class="tm-x-marker-label" x="${anchor[1].toFixed(1)}" y="${ly.toFixed(1)}" text-anchor="${anchor[0]}">B = ${fmtInt.format(b)}</text>`
    );
  }

  function defs(id) {
    return (
      `<defs><clipPath id="${id}"><rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}"/></clipPath>` +
      `<pattern id="${id}-hatch" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
      `<rect width="7" height="7" fill="rgba(127,127,127,0.10)"/><line x1="0" y1="0" x2="0" y2="7" stroke="#7F7F7F" stroke-width="1.2"/></pattern></defs>`
    );
  }

  // ------------------------------------------------------------------ the explorer

  const CONTROLS = ["model", "hardware", "precision", "kv_precision", "assumptions"];

  class Explorer {
    constructor(root, index) {
      this.root = root;
      this.index = index;
      this.state = Object.assign({}, index.defaults);
      this.renders = 0;
      this.pending = 0;
      this.build();
    }

    build() {
      const ids = (name) => `${ROOT_ID}-${name}`;
      const select = (name, label) =>
        `<label class="tm-x-control" for="${ids(name)}"><span>${label}</span>` +
        `<select id="${ids(name)}" data-control="${name}"></select></label>`;
      const slider = (name, label) =>
        `<label class="tm-x-slider" for="${ids(name)}"><span>${label}</span>` +
        `<input type="range" id="${ids(name)}" data-control="${name}" min="0" step="1">` +
        `<output data-out="${name}" for="${ids(name)}"></output></label>`;
      this.root.innerHTML =
        `<div class="tm-x-controls">${select("model", "model")}${select("hardware", "accelerator")}` +
        `${select("precision", "weights")}${select("kv_precision", "KV cache")}` +
        `${select("assumptions", "assumptions")}</div>` +
        `${slider("batch", "batch B")}${slider("context", "context L")}` +
        `<p class="tm-x-message" data-out="message" role="status"></p>` +
        `<p class="tm-x-title" data-out="title"></p>` +
        `<div class="tm-x-charts">` +
        `<svg data-chart="cost" viewBox="0 0 ${W} ${H}" role="img" aria-label="cost per token against batch"></svg>` +
        `<svg data-chart="latency" viewBox="0 0 ${W} ${H}" role="img" aria-label="step time against batch"></svg>` +
        `</div><div class="tm-x-legend">${legend()}</div>` +
        `<table class="tm-x-readouts"><tbody data-out="readouts" aria-live="polite"></tbody></table>`;
      this.controls = {};
      this.root.querySelectorAll("[data-control]").forEach((el) => {
        this.controls[el.dataset.control] = el;
        el.addEventListener(el.type === "range" ? "input" : "change", () => this.onControl(el));
      });
      this.out = {};
      this.root.querySelectorAll("[data-out]").forEach((el) => {
        this.out[el.dataset.out] = el;
      });
      this.charts = {
        cost: this.root.querySelector('[data-chart="cost"]'),
        latency: this.root.querySelector('[data-chart="latency"]'),
      };
      fillSelect(this.controls.model, Object.keys(this.index.models));
      fillSelect(this.controls.hardware, Object.keys(this.index.hardware));
      fillSelect(this.controls.kv_precision, this.index.kv_formats, (k) => k.toUpperCase());
      fillSelect(this.controls.assumptions, Object.keys(this.index.assumption_sets));
      this.controls.assumptions.querySelectorAll("option").forEach((option) => {
        option.title = this.index.assumption_sets[option.value]; // what the set switches on
      });
      this.controls.batch.max = String(this.index.batches.length - 1);
    }

    /** A control moved: new state, then one redraw. */
    onControl(el) {
      const s = this.state;
      const name = el.dataset.control;
      let message = "";
      if (name === "batch") s.batch = this.index.batches[Number(el.value)];
      else if (name === "context") s.context = this.index.models[s.model].contexts[Number(el.value)];
      else s[name] = el.value;
      if (name === "model") {
        // The new model's context grid: the longest context on it that is not longer.
        const grid = this.index.models[s.model].contexts;
        s.context = grid.filter((c) => c <= s.context).pop();
      }
      if (name === "model" || name === "hardware") {
        const offered = this.weightFormats();
        if (!(s.precision in offered)) {
          message = `${s.hardware} cannot run ${s.model} with ${s.precision.toUpperCase()} weights; showing BF16.`;
          s.precision = "bf16";
        }
      }
      this.update(message);
    }

    /** Forget every loaded table, so the next one loads afresh (the browser tests time it). */
    forgetTables() {
      Object.keys(loading).forEach((key) => delete loading[key]);
      window.TM_EXPLORER_TABLES = {};
      reloads += 1;
    }

    weightFormats() {
      return this.index.weight_formats[`${this.state.model}/${this.state.hardware}`];
    }

    /** Load the table if needed, then redraw (a late table for a stale state is dropped). */
    update(message) {
      const ticket = ++this.pending;
      const key = `${this.state.model}/${this.state.hardware}`;
      return loadTable(this.index, key).then(
        (table) => {
          if (ticket === this.pending) this.render(table, message || "");
        },
        (err) => {
          this.out.message.textContent = `The explorer could not load its numbers: ${err.message}`;
        },
      );
    }

    render(table, message) {
      const s = this.state;
      const idx = this.index;
      const key = `${s.precision}|${s.kv_precision}|${s.assumptions}`;
      const c = decodedCase(idx, table, key);
      const ci = table.contexts.indexOf(s.context);
      const bi = idx.batches.indexOf(s.batch);
      if (!c || ci < 0 || bi < 0) {
        this.out.message.textContent = `No numbers for ${key} at context ${s.context}, batch ${s.batch}.`;
        return;
      }
      const hw = idx.hardware[s.hardware];
      const v = {
        cost_us: c.cost_us[ci][bi],
        step_ms: c.step_ms[ci][bi],
        floor_us: c.floor_us[ci],
        sweet_spot: c.sweet_spot[ci],
        batch1_penalty: c.batch1_penalty[ci],
        max_batch: c.max_batch[ci],
        compute_bound: bi >= c.compute_from[ci],
      };
      // A change of units by the library's factor: GPU-microseconds per token to USD per
      // million tokens at the accelerator's preset price.
      v.cost_usd = v.cost_us * hw.usd_per_million_per_gpu_us;
      v.floor_usd = v.floor_us * hw.usd_per_million_per_gpu_us;

      this.syncControls(table);
      this.drawCost(c, ci, bi, v);
      this.drawLatency(c, ci, bi, v);
      this.writeReadouts(c, v, hw);
      const formats = this.weightFormats();
      const assumed = idx.assumption_sets[s.assumptions]; // what the set switches on
      this.out.title.textContent =
        `${s.model} on ${c.gpus} × ${s.hardware}, weights ${formats[s.precision]}` +
        ` (multiplied in ${c.compute_mode.toUpperCase()}), KV cache ${s.kv_precision.toUpperCase()},` +
        ` ${s.assumptions}${assumed === s.assumptions ? "" : ` (${assumed})`}, context ${fmtInt.format(s.context)} tokens, batch ${fmtInt.format(s.batch)} sequences`;
      this.out.message.textContent = message;
      this.renders += 1;
      this.root.dataset.renders = String(this.renders);
      this.root.dataset.ready = "true";
    }

    syncControls(table) {
      const s = this.state;
      const ctl = this.controls;
      const formats = this.weightFormats();
      if (ctl.precision.dataset.options !== Object.keys(formats).join()) {
        fillSelect(ctl.precision, Object.keys(formats), (k) => formats[k]);
        ctl.precision.dataset.options = Object.keys(formats).join();
      }
      for (const name of CONTROLS) ctl[name].value = s[name];
      ctl.context.max = String(table.contexts.length - 1);
      ctl.context.value = String(table.contexts.indexOf(s.context));
      ctl.batch.value = String(this.index.batches.indexOf(s.batch));
      const tokens = `${fmtInt.format(s.context)} tokens`;
      const seqs = `${fmtInt.format(s.batch)} sequence${s.batch === 1 ? "" : "s"}`;
      this.out.context.textContent = tokens;
      this.out.batch.textContent = seqs;
      ctl.context.setAttribute("aria-valuetext", tokens);
      ctl.batch.setAttribute("aria-valuetext", seqs);
    }

    /** One log-log panel against the batch: regions, limits, lines, axes and the marker. */
    drawPanel(svg, panel, c, bi, v) {
      const batches = this.index.batches;
      const xr = [batches[0], batches[batches.length - 1]];
      const yr = panel.range;
      const x = logScale(xr[0], xr[1], PAD.left, W - PAD.right);
      const y = logScale(yr[0], yr[1], H - PAD.bottom, PAD.top);
      const id = `${ROOT_ID}-${panel.name}`;
      const [xs, ys] = withSweetSpot(batches, panel.curve, v.sweet_spot, panel.atSpot);
      const lines = panel.flat.map(([value, style, cls]) => path(x, y, xr, [value, value], style, cls));
      svg.innerHTML =
        defs(id) +
        `<g clip-path="url(#${id})">${backdrop(x, xr, v.sweet_spot, v.max_batch, c.gpus, id)}` +
        (panel.under ? path(x, y, batches, panel.under[0], panel.under[1], panel.under[2]) : "") +
        lines.join("") +
        `${path(x, y, xs, ys, STYLE.total, panel.cls)}</g>` +
        axes(x, y, xr, yr, "batch size B [sequences]", panel.ylabel) +
        marker(x, y, batches[bi], panel.value, yr);
      svg.setAttribute("aria-label", panel.label);
    }

    drawCost(c, ci, bi, v) {
      const b = fmtInt.format(this.index.batches[bi]);
      const flat = [[c.compute_us[ci], STYLE.compute, "tm-x-compute"]];
      if (c.kv_us[ci] > 0) flat.unshift([c.kv_us[ci], STYLE.kv, "tm-x-kv"]); // none at context 0
      this.drawPanel(
        this.charts.cost,
        {
          name: "cost",
          cls: "tm-x-total",
          range: c.costRange,
          curve: c.cost_us[ci],
          atSpot: c.cost_at_sweet_spot_us[ci],
          value: v.cost_us,
          under: [c.weights_us, STYLE.weights, "tm-x-weights"],
          flat,
          ylabel: "cost per token [GPU-microseconds]",
          label: `Cost per token against batch, log-log: ${num(v.cost_us)} GPU-microseconds per token at batch ${b}, floor ${num(v.floor_us)}.`,
        },
        c,
        bi,
        v,
      );
    }

    drawLatency(c, ci, bi, v) {
      const b = fmtInt.format(this.index.batches[bi]);
      this.drawPanel(
        this.charts.latency,
        {
          name: "latency",
          cls: "tm-x-step",
          range: c.stepRange,
          curve: c.step_ms[ci],
          atSpot: c.step_at_sweet_spot_ms[ci],
          value: v.step_ms,
          flat: [],
          ylabel: "step time T [ms per decode step]",
          label: `Step time against batch, log-log: ${num(v.step_ms)} ms per decode step at batch ${b} on ${c.gpus} GPUs.`,
        },
        c,
        bi,
        v,
      );
    }

    writeReadouts(c, v, hw) {
      const gpus = `${c.gpus} GPU${c.gpus > 1 ? "s" : ""}`;
      const price = `at ${hw.usd_per_gpu_hour.toFixed(2)} USD per GPU-hour (${hw.price_date})`;
      let fits;
      if (v.max_batch === null) fits = "no limit (no KV cache at context 0)";
      else if (v.max_batch < 1) fits = "none: the weights fill the memory";
      else fits = `${fmtInt.format(v.max_batch)} sequences`;
      const rows = [
        ["step_ms", "step time at this batch", v.step_ms, `${num(v.step_ms)} ms per decode step (on ${gpus})`],
        ["cost_us", "cost per token", v.cost_us, `${num(v.cost_us)} GPU-microseconds per token`],
        ["cost_usd", "price", v.cost_usd, `${num(v.cost_usd)} USD per million tokens ${price}`],
        ["region", "region", v.compute_bound ? 1 : 0, v.compute_bound ? "compute-bound" : "memory-bound"],
        [
          "sweet_spot",
          "sweet spot",
          v.sweet_spot,
          v.sweet_spot === null ? "none (the KV line lies above the compute line)" : `B = ${num(v.sweet_spot)} sequences`,
        ],
        ["floor_us", "floor", v.floor_us, `${num(v.floor_us)} GPU-microseconds per token`],
        ["floor_usd", "floor price", v.floor_usd, `${num(v.floor_usd)} USD per million tokens`],
        ["batch1_penalty", "batch-1 penalty", v.batch1_penalty, `${num(v.batch1_penalty)} × the floor`],
        ["max_batch", `largest batch that fits on ${gpus}`, v.max_batch, fits],
      ];
      this.out.readouts.innerHTML = rows
        .map(
          ([key, label, value, text]) =>
            `<tr><th scope="row">${label}</th><td data-key="${key}" data-value="${value === null ? "" : value}">${escapeHtml(text)}</td></tr>`,
        )
        .join("");
    }
  }

  function fillSelect(el, values, label) {
    el.innerHTML = values
      .map((value) => `<option value="${escapeHtml(value)}">${escapeHtml(label ? label(value) : value)}</option>`)
      .join("");
  }

  function legend() {
    const item = (style, text) =>
      `<span class="tm-x-key"><svg width="30" height="10" aria-hidden="true"><line x1="0" y1="5" x2="30" y2="5" stroke="${style.color}" stroke-width="${style.width}"${style.dash ? ` stroke-dasharray="${style.dash}"` : ""}/></svg>${text}</span>`;
    return (
      item(STYLE.weights, "weight traffic / B") +
      item(STYLE.kv, "KV traffic (absent at context 0)") +
      item(STYLE.compute, "compute") +
      item(STYLE.total, "cost per token; step time") +
      `<span class="tm-x-key"><span class="tm-x-swatch" style="background:${REGION_FILL.memory}"></span>memory-bound</span>` +
      `<span class="tm-x-key"><span class="tm-x-swatch" style="background:${REGION_FILL.compute}"></span>compute-bound</span>` +
      `<span class="tm-x-key"><span class="tm-x-swatch tm-x-hatch"></span>does not fit in memory</span>`
    );
  }

  function start() {
    const root = document.getElementById(ROOT_ID);
    if (!root) return;
    const index = window.TM_EXPLORER_INDEX;
    if (!index) {
      root.textContent = "The explorer's numbers (index.js) did not load.";
      return;
    }
    const explorer = new Explorer(root, index);
    root.explorer = explorer; // for the browser tests
    explorer.update("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
