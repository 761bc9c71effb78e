// A very small canvas chart library for the operations dashboard: line series over time (with optional
// horizontal threshold lines) and horizontal bars. No dependencies, no build step. Sized to the canvas's
// CSS box and the device pixel ratio, redrawn whole on every update (the data is a few hundred points).
(function () {
  'use strict';
  const AXIS = '#8a94a6';
  const GRID = '#e6e9ef';
  const FONT = '11px system-ui, sans-serif';

  function setup(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 300;
    const h = canvas.clientHeight || 150;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = FONT;
    return { ctx, w, h };
  }

  /** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
  function niceMax(max) {
    if (!(max > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(max)));
    for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
    return 10 * p;
  }

  function fmt(v) {
    if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (Math.abs(v) >= 1e3) return (v / 1e3).toFixed(1) + 'k';
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  }

  /**
   * series: [{label, color, values: number[]}] on a shared x axis (index); thresholds: [{label, color, value}].
   * xLabel(i) names a point on the axis (first, middle, last are drawn).
   */
  function line(canvas, opts) {
    const { ctx, w, h } = setup(canvas);
    const series = opts.series || [];
    const thresholds = opts.thresholds || [];
    const pad = { l: 44, r: 8, t: 18, b: 18 };
    const n = Math.max(1, ...series.map((s) => s.values.length));
    const all = series.flatMap((s) => s.values).concat(thresholds.map((t) => t.value)).filter((v) => Number.isFinite(v));
    const lo = opts.min !== undefined ? opts.min : Math.min(0, ...all);
    const hi = niceMax(Math.max(...all, lo + 1) - lo) + lo;
    const x = (i) => pad.l + (n <= 1 ? 0 : (i * (w - pad.l - pad.r)) / (n - 1));
    const y = (v) => pad.t + (1 - (v - lo) / (hi - lo)) * (h - pad.t - pad.b);
    ctx.strokeStyle = GRID;
    ctx.fillStyle = AXIS;
    ctx.lineWidth = 1;
    for (let k = 0; k <= 4; k++) {
      const v = lo + ((hi - lo) * k) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.l, y(v));
      ctx.lineTo(w - pad.r, y(v));
      ctx.stroke();
      ctx.fillText(fmt(v), 2, y(v) + 4);
    }
    if (opts.xLabel) {
      for (const i of [0, Math.floor((n - 1) / 2), n - 1]) {
        const text = opts.xLabel(i);
        ctx.fillText(text, Math.min(Math.max(x(i) - ctx.measureText(text).width / 2, pad.l), w - pad.r - ctx.measureText(text).width), h - 4);
      }
    }
    for (const t of thresholds) {
      ctx.strokeStyle = t.color;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(pad.l, y(t.value));
      ctx.lineTo(w - pad.r, y(t.value));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = t.color;
      ctx.fillText(t.label, w - pad.r - ctx.measureText(t.label).width, y(t.value) - 3);
    }
    let legendX = pad.l;
    for (const s of series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      s.values.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
      ctx.stroke();
      if (s.values.length === 1) ctx.fillRect(x(0) - 2, y(s.values[0]) - 2, 4, 4);
      ctx.fillStyle = s.color;
      ctx.fillText(s.label, legendX, 11);
      legendX += ctx.measureText(s.label).width + 14;
    }
  }

  /** items: [{label, value}] as horizontal bars, largest first as given. */
  function bars(canvas, opts) {
    const { ctx, w, h } = setup(canvas);
    const items = opts.items || [];
    if (items.length === 0) {
      ctx.fillStyle = AXIS;
      ctx.fillText(opts.empty || 'nothing to show', 8, 16);
      return;
    }
    const rowH = Math.min(22, (h - 4) / items.length);
    const max = niceMax(Math.max(...items.map((i) => i.value)));
    const labelW = 52;
    items.forEach((item, k) => {
      const top = 2 + k * rowH;
      ctx.fillStyle = AXIS;
      ctx.fillText(item.label, 2, top + rowH / 2 + 4);
      ctx.fillStyle = opts.color || '#d9534f';
      const bw = ((w - labelW - 40) * item.value) / max;
      ctx.fillRect(labelW, top + 3, Math.max(1, bw), rowH - 6);
      ctx.fillStyle = AXIS;
      ctx.fillText(fmt(item.value), labelW + bw + 4, top + rowH / 2 + 4);
    });
  }

  window.FluxChart = { line, bars };
})();
