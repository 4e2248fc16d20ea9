// Lucid Studio front-end. The HTTP API it talks to is served by segmenters/studio/app.py.

const MAX_CACHED_IMAGES = 50;
const PRELOAD_AHEAD = 6;
const POLL_MS = 500;
const DEFAULT_FPS = 25;
const FALLBACK_COLOUR = '#ff4d6d';
const NEGATIVE_COLOUR = '#ff3b30';
const ERASER_COLOUR = 'rgba(255, 255, 255, 0.6)';
const CURRENT_FRAME_COLOUR = '#38bdf8';
const NO_CONFIDENCE_COLOUR = '#3a3f47';
const TOOLS = ['scribble', 'negative', 'click', 'eraser'];
const TOOL_KEYS = { s: 'scribble', n: 'negative', c: 'click', e: 'eraser' };
const FORMATS = ['davis', 'coco', 'mp4'];
const NON_TEXT_INPUTS = new Set(['range', 'checkbox', 'radio', 'button', 'submit', 'reset', 'color', 'file']);

const $ = (id) => document.getElementById(id);
const camel = (id) => id.replace(/-(\w)/g, (_, c) => c.toUpperCase());
// DOM elements by camel-cased id: els.frameCanvas is #frame-canvas.
const els = Object.fromEntries(
  ['frame-canvas', 'stage', 'timeline', 'frame-label', 'frame-stem', 'video-name', 'play', 'objects', 'add-object',
    'brush-size', 'brush-value', 'opacity', 'opacity-value', 'propagate', 'progress', 'status', 'confidence', 'undo',
    'export', 'exports', 'import-mask', 'message'].map((id) => [camel(id), $(id)]),
);
els.tools = TOOLS.map((tool) => $(`tool-${tool}`));

// The one mutable state object of the page.
const S = {
  video: null, state: null, status: null, // /api/video, /api/state, latest status (from either endpoint)
  fps: DEFAULT_FPS, frame: 0, tool: 'scribble', selected: null, // selected: an object id
  brush: Number(els.brushSize.value), opacity: Number(els.opacity.value),
  scale: 1, // CSS px per frame px
  frameImg: null, maskImg: null, loadToken: 0, playing: false, playToken: 0,
  stroke: null, // the stroke being drawn
  press: null, // a click-tool press waiting for its mouseup
  pending: [], // strokes sent whose result is not drawn yet
  hover: null, // brush cursor position in frame px
  drawQueued: false, polling: false, exportPending: false, lastError: null, messageTimer: 0, objectsKey: '',
  queue: Promise.resolve(), // serialises edits so the server sees them in the user's order
  cache: new Map(), // url -> Promise<HTMLImageElement>, in LRU order
};

// ---------------------------------------------------------------- helpers

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const dpr = () => window.devicePixelRatio || 1;
const findObject = (id) => S.state?.objects.find((o) => o.id === id);
const isActive = (st) => st.state !== 'idle' || st.job != null;
const setJobButtonsDisabled = (disabled) => { els.propagate.disabled = els.export.disabled = disabled; };

function h(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  return target.tagName === 'INPUT' && !NON_TEXT_INPUTS.has(target.type);
}

// ---------------------------------------------------------------- server

function detailOf(data, res) {
  const detail = data && typeof data === 'object' ? data.detail : data;
  if (Array.isArray(detail)) return detail.map((d) => d.msg ?? JSON.stringify(d)).join('; ');
  if (detail && typeof detail === 'object') return JSON.stringify(detail);
  return detail || `${res.status} ${res.statusText}`;
}

async function api(path, { method = 'GET', json, body, type } = {}) {
  if (json !== undefined) [body, type] = [JSON.stringify(json), 'application/json'];
  const res = await fetch(path, { method, body, headers: type ? { 'Content-Type': type } : {} });
  const text = await res.text();
  if (res.ok) return text ? JSON.parse(text) : null;
  let data = text; // a non-JSON error page is its own detail
  try { data = JSON.parse(text); } catch { /* keep the text */ }
  throw new Error(detailOf(data, res));
}

const post = (path, json) => api(path, { method: 'POST', json });

function showMessage(text, kind = 'error') {
  clearTimeout(S.messageTimer);
  els.message.textContent = text;
  els.message.className = text ? kind : '';
  if (text && kind === 'info') S.messageTimer = setTimeout(() => showMessage(''), 5000);
}

const showError = (err) => showMessage(err?.message || String(err));

const mutate = (fn) => (S.queue = S.queue.then(fn).catch(showError));

// ---------------------------------------------------------------- images

function getImage(url) {
  const hit = S.cache.get(url);
  if (hit) {
    S.cache.delete(url); // re-inserted: the Map's order is the LRU order
    S.cache.set(url, hit);
    return hit;
  }
  const img = new Image();
  img.src = url;
  const promise = img.decode().then(() => img, () => Promise.reject(new Error(`Could not load ${url}`)));
  // a failed load must not stay cached, or it could never be retried
  promise.catch(() => S.cache.get(url) === promise && S.cache.delete(url));
  S.cache.set(url, promise);
  while (S.cache.size > MAX_CACHED_IMAGES) S.cache.delete(S.cache.keys().next().value);
  return promise;
}

const frameUrl = (i) => `/api/frames/${i}.jpg`;
const maskUrl = (i) => `/api/masks/${i}.png?v=${S.state.version}`;

function purgeMasks(version) {
  const stale = (url) => url.startsWith('/api/masks/') && !url.endsWith(`?v=${version}`);
  [...S.cache.keys()].filter(stale).forEach((url) => S.cache.delete(url));
}

async function showFrame(i) {
  const token = ++S.loadToken;
  const mask = S.state ? getImage(maskUrl(i)).catch(() => null) : null;
  try {
    const [frameImg, maskImg] = await Promise.all([getImage(frameUrl(i)), mask]);
    if (token !== S.loadToken) return; // the user has moved on meanwhile
    S.frameImg = frameImg;
    S.maskImg = maskImg;
    draw();
  } catch (err) {
    if (token === S.loadToken) showError(err);
  }
}

function preload(i) {
  const ignore = () => {};
  for (let d = 1; d <= PRELOAD_AHEAD; d++) {
    const j = (i + d) % S.video.frames;
    getImage(frameUrl(j)).catch(ignore);
    if (S.state) getImage(maskUrl(j)).catch(ignore);
  }
  if (i > 0) getImage(frameUrl(i - 1)).catch(ignore);
}

// ---------------------------------------------------------------- frame canvas

function layoutCanvas() {
  if (!S.video) return;
  const { width: W, height: H } = S.video;
  const box = els.stage.getBoundingClientRect();
  const scale = Math.min(box.width / W, box.height / H);
  if (!(scale > 0)) return;
  const cssW = Math.max(1, Math.floor(W * scale));
  const cssH = Math.max(1, Math.floor(H * scale));
  Object.assign(els.frameCanvas.style, { width: `${cssW}px`, height: `${cssH}px` });
  els.frameCanvas.width = Math.round(cssW * dpr());
  els.frameCanvas.height = Math.round(cssH * dpr());
  S.scale = cssW / W;
  draw();
}

function scheduleDraw() {
  if (S.drawQueued) return;
  S.drawQueued = true;
  requestAnimationFrame(() => {
    S.drawQueued = false;
    draw();
  });
}

function draw() {
  if (!S.video) return;
  const canvas = els.frameCanvas;
  const ctx = canvas.getContext('2d');
  const { width: W, height: H } = S.video;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(canvas.width / W, 0, 0, canvas.height / H, 0, 0); // draw in frame pixels from here on
  if (S.frameImg) ctx.drawImage(S.frameImg, 0, 0, W, H);
  if (S.maskImg && S.opacity > 0) {
    ctx.globalAlpha = S.opacity;
    ctx.drawImage(S.maskImg, 0, 0, W, H);
    ctx.globalAlpha = 1;
  }
  for (const stroke of S.pending) if (stroke.frame === S.frame) drawStroke(ctx, stroke);
  if (S.stroke) drawStroke(ctx, S.stroke);
  else if (S.hover && S.tool !== 'click') drawBrushCursor(ctx);
}

function strokeColour(tool) {
  if (tool === 'negative') return NEGATIVE_COLOUR;
  if (tool === 'eraser') return ERASER_COLOUR;
  return findObject(S.selected)?.colour ?? FALLBACK_COLOUR;
}

function drawStroke(ctx, { tool, points, width, colour }) {
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = colour;
  ctx.lineWidth = width; // frame px, so brush size x display scale on screen
  ctx.lineCap = ctx.lineJoin = 'round';
  if (tool === 'negative') ctx.setLineDash([width * 1.5, width * 1.5]);
  if (tool === 'scribble') ctx.globalAlpha = 0.9;
  ctx.beginPath();
  if (points.length === 1) {
    ctx.arc(points[0][0], points[0][1], width / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.moveTo(...points[0]);
    for (const p of points.slice(1)) ctx.lineTo(...p);
    ctx.stroke();
  }
  ctx.restore();
}

function drawBrushCursor(ctx) {
  ctx.save();
  ctx.lineWidth = 1 / S.scale; // one CSS pixel
  ctx.strokeStyle = strokeColour(S.tool);
  ctx.beginPath();
  ctx.arc(S.hover[0], S.hover[1], Math.max(S.brush / 2, 1), 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}

// ---------------------------------------------------------------- confidence strip

function layoutConfidence() {
  const box = els.confidence.getBoundingClientRect();
  els.confidence.width = Math.max(1, Math.round(box.width * dpr()));
  els.confidence.height = Math.max(1, Math.round(box.height * dpr()));
  drawConfidence();
}

function confidenceColour(values) {
  if (!values?.length) return NO_CONFIDENCE_COLOUR;
  const c = clamp(Math.min(...values), 0, 1);
  return `hsl(${Math.round(c * 120)}, 75%, 42%)`; // hue 0 red, 60 yellow, 120 green
}

function drawConfidence() {
  const canvas = els.confidence;
  const ctx = canvas.getContext('2d');
  const T = S.video?.frames ?? 0;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!T) return;
  const column = (i) => {
    const x = Math.floor((i * canvas.width) / T);
    return [x, Math.max(1, Math.floor(((i + 1) * canvas.width) / T) - x)];
  };
  const confidence = S.state?.confidence ?? [];
  for (let i = 0; i < T; i++) {
    const [x, w] = column(i);
    ctx.fillStyle = confidenceColour(confidence[i]);
    ctx.fillRect(x, 0, w, canvas.height);
  }
  ctx.fillStyle = '#ffffff';
  for (const i of S.state?.annotated ?? []) {
    const [x, w] = column(i);
    const tick = Math.max(2 * dpr(), w * 0.5);
    ctx.fillRect(x + (w - tick) / 2, 0, tick, canvas.height * 0.4);
  }
  const [x, w] = column(S.frame);
  const line = 2 * dpr();
  const mark = Math.max(w, 3 * dpr());
  ctx.strokeStyle = CURRENT_FRAME_COLOUR;
  ctx.lineWidth = line;
  ctx.strokeRect(x + (w - mark) / 2, line / 2, mark, canvas.height - line);
}

function onConfidencePointer(ev) {
  if (!S.video || (ev.type === 'mousemove' && !(ev.buttons & 1))) return;
  const box = els.confidence.getBoundingClientRect();
  const frame = clamp(Math.floor(((ev.clientX - box.left) / box.width) * S.video.frames), 0, S.video.frames - 1);
  if (frame === S.frame && ev.type === 'mousemove') return;
  pause();
  setFrame(frame);
}

// ---------------------------------------------------------------- frames and playback

function setFrame(i) {
  const T = S.video.frames;
  S.frame = clamp(Math.round(i), 0, T - 1);
  els.timeline.value = String(S.frame);
  els.frameLabel.textContent = `${S.frame} / ${T - 1}`;
  els.frameStem.textContent = S.video.stems?.[S.frame] ?? '';
  drawConfidence();
  const shown = showFrame(S.frame);
  preload(S.frame); // after showFrame, so the current frame's request goes out first
  return shown;
}

function setPlaying(playing) {
  S.playing = playing;
  els.play.textContent = playing ? '❚❚' : '▶';
  els.play.classList.toggle('active', playing);
}

const pause = () => setPlaying(false);

async function play() {
  setPlaying(true);
  const token = ++S.playToken;
  // waiting for each frame to be drawn keeps playback from outrunning a slow server
  while (S.playing && token === S.playToken) {
    const started = performance.now();
    await setFrame((S.frame + 1) % S.video.frames);
    await sleep(Math.max(0, 1000 / S.fps - (performance.now() - started)));
  }
}

const togglePlay = () => (S.playing ? pause() : play());

// ---------------------------------------------------------------- state, status and jobs

async function loadState() {
  const data = await api('/api/state');
  if (S.state && data.version < S.state.version) return; // overtaken by a newer response
  const changed = data.version !== S.state?.version;
  S.state = data;
  renderObjects();
  renderStatus(data.status);
  els.undo.disabled = !data.can_undo;
  drawConfidence();
  if (changed && S.video) {
    purgeMasks(data.version);
    await showFrame(S.frame);
  }
}

function renderStatus(st) {
  if (!st) return;
  S.status = st;
  const active = isActive(st);
  const model = st.model ? `networks trained ${st.model}×` : 'no networks yet';
  els.status.textContent = `${st.message || st.state} · ${model}`;
  if (typeof st.progress === 'number') els.progress.value = st.progress;
  else if (active) els.progress.removeAttribute('value'); // indeterminate
  else els.progress.value = 0;
  setJobButtonsDisabled(st.job != null);
  document.body.classList.toggle('busy', active);
  if (st.error && st.error !== S.lastError) showMessage(st.error);
  S.lastError = st.error;
  if (active) startPolling();
}

async function startPolling() {
  if (S.polling) return;
  S.polling = true;
  for (;;) {
    try {
      const st = await api('/api/status');
      renderStatus(st);
      if (!isActive(st)) break;
      if (st.version !== S.state?.version) await loadState();
    } catch (err) {
      showError(err);
    }
    await sleep(POLL_MS);
  }
  S.polling = false;
  await loadState().catch(showError);
  if (S.exportPending) {
    S.exportPending = false;
    await loadExports().catch(showError);
  }
}

function startJob(path, json, onStarted) {
  setJobButtonsDisabled(true); // no double start while the request is in flight
  return mutate(async () => {
    try {
      await post(path, json);
    } catch (err) {
      setJobButtonsDisabled(S.status?.job != null);
      throw err;
    }
    onStarted?.();
    startPolling();
  });
}

const propagate = () => startJob('/api/propagate');

function exportVideo() {
  const formats = FORMATS.filter((f) => $(`export-${f}`).checked);
  if (!formats.length) return showMessage('Choose at least one export format.');
  return startJob('/api/export', { formats }, () => { S.exportPending = true; });
}

async function loadExports() {
  const list = await api('/api/exports');
  els.exports.replaceChildren(...(list ?? []).map(exportBlock));
}

function exportBlock(exp) {
  const link = (file) => h('a', { href: file.url, textContent: file.path, download: file.path.split('/').pop() });
  const items = exp.files.map((file) => h('li', {}, link(file)));
  return h('div', { className: 'export' }, h('div', { className: 'export-name', textContent: exp.name }),
    h('ul', {}, ...items));
}

// ---------------------------------------------------------------- objects

function renderObjects() {
  const objects = S.state?.objects ?? [];
  if (!objects.some((o) => o.id === S.selected)) S.selected = objects[0]?.id ?? null;
  const key = JSON.stringify(objects);
  // rebuilding the rows under the user's cursor would throw away what they are typing
  const editing = els.objects.contains(document.activeElement) && document.activeElement.tagName === 'INPUT';
  if (key !== S.objectsKey && !editing) {
    S.objectsKey = key;
    els.objects.replaceChildren(...objects.map(objectRow));
  }
  for (const row of els.objects.children) row.classList.toggle('selected', Number(row.dataset.id) === S.selected);
}

function objectRow(obj) {
  const row = h('li', { className: 'object-row', title: `Object ${obj.id}: click to select` },
    h('input', { type: 'color', className: 'obj-colour', value: obj.colour, title: 'Colour' }),
    h('input', { type: 'text', className: 'obj-name', value: obj.name, spellcheck: false, title: 'Name' }),
    h('button', { type: 'button', className: 'obj-delete', textContent: '×', title: 'Delete object' }));
  row.dataset.id = String(obj.id);
  return row;
}

function selectObject(id) {
  S.selected = id;
  renderObjects();
  scheduleDraw();
}

function onObjectsClick(ev) {
  const row = ev.target.closest('.object-row');
  if (!row) return;
  if (ev.target.closest('.obj-delete')) deleteObject(Number(row.dataset.id));
  else selectObject(Number(row.dataset.id));
}

function onObjectsChange(ev) {
  const row = ev.target.closest('.object-row');
  const obj = row && findObject(Number(row.dataset.id));
  if (!obj) return;
  if (ev.target.classList.contains('obj-name')) {
    const name = ev.target.value.trim();
    if (!name || name === obj.name) {
      ev.target.value = obj.name;
      return;
    }
    obj.name = name; // optimistic, so a re-render before the reply keeps the new name
    patchObject(obj.id, { name });
  } else if (ev.target.classList.contains('obj-colour')) {
    obj.colour = ev.target.value;
    patchObject(obj.id, { colour: obj.colour });
  }
}

function patchObject(id, fields) {
  return mutate(async () => {
    try {
      await api(`/api/objects/${id}`, { method: 'PATCH', json: fields });
    } finally {
      await loadState(); // also reverts the optimistic edit when the server refused it
    }
  });
}

function deleteObject(id) {
  const obj = findObject(id);
  if (!obj || !confirm(`Delete "${obj.name}"? Its pixels become background in every frame.`)) return;
  mutate(async () => {
    await api(`/api/objects/${id}`, { method: 'DELETE' });
    if (S.selected === id) S.selected = null;
    await loadState();
  });
}

async function createObject() {
  const obj = await post('/api/objects', {});
  S.selected = obj.id;
  await loadState();
  return obj.id;
}

const addObject = () => mutate(createObject);

// Runs inside the edit queue, so an object created here exists before the interaction that needs it is sent.
const ensureObject = () => (S.selected != null ? S.selected : createObject());

// ---------------------------------------------------------------- drawing on the frame

function toFramePoint(ev) {
  const box = els.frameCanvas.getBoundingClientRect();
  const { width: W, height: H } = S.video;
  const x = ((ev.clientX - box.left) / box.width) * W;
  const y = ((ev.clientY - box.top) / box.height) * H;
  return [clamp(x, 0, W - 1), clamp(y, 0, H - 1)];
}

function integerPoints(points) {
  const rounded = points.map(([x, y]) => [Math.round(x), Math.round(y)]);
  return rounded.filter(([x, y], i) => i === 0 || x !== rounded[i - 1][0] || y !== rounded[i - 1][1]);
}

async function sendStroke(stroke) {
  try {
    const points = integerPoints(stroke.points);
    const path = `/api/frames/${stroke.frame}`;
    if (stroke.tool === 'eraser') {
      await post(`${path}/erase`, { points, width: stroke.width });
    } else {
      const objectId = stroke.tool === 'negative' ? 0 : await ensureObject();
      await post(`${path}/scribbles`, { scribbles: [{ object_id: objectId, points, width: stroke.width }] });
    }
    await loadState();
  } finally {
    S.pending = S.pending.filter((s) => s !== stroke);
    scheduleDraw();
  }
}

async function sendClick({ frame, point, positive }) {
  const objectId = positive ? await ensureObject() : S.selected ?? 0;
  const [x, y] = point.map((v) => Math.round(v * 100) / 100);
  await post(`/api/frames/${frame}/clicks`, { clicks: [{ x, y, object_id: objectId, positive }] });
  await loadState();
}

function onCanvasDown(ev) {
  if (!S.video || S.stroke || S.press) return;
  const rightClick = ev.button === 2 && S.tool === 'click';
  if (ev.button !== 0 && !rightClick) return;
  ev.preventDefault();
  document.activeElement?.blur?.(); // commits a half-typed object name first
  pause();
  const point = toFramePoint(ev);
  if (S.tool === 'click') {
    S.press = { frame: S.frame, point, positive: !(rightClick || ev.shiftKey) };
    return;
  }
  S.stroke = { frame: S.frame, tool: S.tool, points: [point], width: S.brush, colour: strokeColour(S.tool) };
  scheduleDraw();
}

function onMouseMove(ev) {
  if (!S.video) return;
  const hadHover = S.hover != null;
  S.hover = ev.target === els.frameCanvas ? toFramePoint(ev) : null;
  if (S.stroke) {
    const p = toFramePoint(ev);
    const last = S.stroke.points[S.stroke.points.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= 0.5) S.stroke.points.push(p);
  }
  if (S.stroke || S.hover || hadHover) scheduleDraw();
}

function onMouseUp() {
  const { press, stroke } = S;
  S.press = S.stroke = null;
  if (press) mutate(() => sendClick(press));
  if (stroke) {
    S.pending.push(stroke); // stays drawn until the server's mask includes it
    mutate(() => sendStroke(stroke));
  }
}

// ---------------------------------------------------------------- other controls

const undo = () => mutate(async () => {
  if (!S.state?.can_undo) return; // checked in the queue, once the edits before it have landed
  await post('/api/undo');
  await loadState();
});

function importMask() {
  const file = els.importMask.files[0];
  if (!file) return;
  const frame = S.frame;
  const objectId = S.selected ?? 1;
  mutate(async () => {
    try {
      await api(`/api/frames/${frame}/mask?object_id=${objectId}`, { method: 'POST', body: file, type: 'image/png' });
      await loadState();
      showMessage(`Imported ${file.name} into frame ${frame}.`, 'info');
    } finally {
      els.importMask.value = ''; // so that the same file can be imported again
    }
  });
}

function setTool(tool) {
  S.tool = tool;
  els.tools.forEach((button, i) => {
    button.classList.toggle('active', TOOLS[i] === tool);
    button.setAttribute('aria-pressed', String(TOOLS[i] === tool));
  });
  els.frameCanvas.className = `tool-${tool}`;
  scheduleDraw();
}

function onKeyDown(ev) {
  if (!S.video || isTyping(ev.target)) return;
  const key = (ev.key || '').toLowerCase();
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && key === 'z' && !ev.shiftKey && !ev.altKey) {
    ev.preventDefault();
    undo();
  } else if (mod || ev.altKey) {
    // leave the browser's own shortcuts alone
  } else if (key === 'arrowleft' || key === 'arrowright') {
    if (ev.target === els.timeline) return; // the focused range input steps by itself
    ev.preventDefault();
    pause();
    setFrame(S.frame + (key === 'arrowright' ? 1 : -1));
  } else if (key === ' ') {
    ev.preventDefault(); // no page scroll, no activation of a focused button
    togglePlay();
  } else if (TOOL_KEYS[key]) {
    setTool(TOOL_KEYS[key]);
  }
}

// ---------------------------------------------------------------- start-up

function bindEvents() {
  const on = (target, type, handler) => target.addEventListener(type, handler);
  on(els.frameCanvas, 'mousedown', onCanvasDown);
  on(els.frameCanvas, 'mouseleave', () => { S.hover = null; scheduleDraw(); });
  on(els.frameCanvas, 'contextmenu', (ev) => ev.preventDefault());
  on(window, 'mousemove', onMouseMove);
  on(window, 'mouseup', onMouseUp);
  on(window, 'keydown', onKeyDown);
  // a focused button activates on Space's keyup, which would be a second action
  on(window, 'keyup', (ev) => ev.key === ' ' && !isTyping(ev.target) && ev.preventDefault());
  on(els.timeline, 'input', () => {
    pause();
    setFrame(Number(els.timeline.value));
  });
  on(els.play, 'click', togglePlay);
  on(els.confidence, 'click', onConfidencePointer);
  on(els.confidence, 'mousemove', onConfidencePointer);
  els.tools.forEach((button, i) => on(button, 'click', () => setTool(TOOLS[i])));
  on(els.brushSize, 'input', () => {
    S.brush = Number(els.brushSize.value);
    els.brushValue.textContent = `${S.brush} px`;
  });
  on(els.opacity, 'input', () => {
    S.opacity = Number(els.opacity.value);
    els.opacityValue.textContent = S.opacity.toFixed(2);
    scheduleDraw();
  });
  on(els.objects, 'click', onObjectsClick);
  on(els.objects, 'change', onObjectsChange);
  on(els.objects, 'keydown', (ev) => ev.key === 'Enter' && ev.target.classList.contains('obj-name') && ev.target.blur());
  // rows are not rebuilt while one of their inputs has focus: catch up once it leaves
  on(els.objects, 'focusout', () => setTimeout(renderObjects));
  on(els.addObject, 'click', addObject);
  on(els.undo, 'click', undo);
  on(els.propagate, 'click', propagate);
  on(els.export, 'click', exportVideo);
  on(els.importMask, 'change', importMask);
  on(els.message, 'click', () => showMessage(''));
  new ResizeObserver(layoutCanvas).observe(els.stage);
  new ResizeObserver(layoutConfidence).observe(els.confidence);
}

async function init() {
  bindEvents();
  setTool(S.tool);
  try {
    S.video = await api('/api/video');
  } catch (err) {
    showError(err);
    els.status.textContent = 'no video';
    return;
  }
  S.fps = S.video.fps > 0 ? S.video.fps : DEFAULT_FPS;
  els.videoName.textContent = `${S.video.name} · ${S.video.width}×${S.video.height} · ${S.video.frames} frames`;
  els.timeline.max = String(S.video.frames - 1);
  layoutCanvas();
  drawConfidence();
  await Promise.all([loadState().catch(showError), loadExports().catch(showError)]);
  await setFrame(0);
}

init();
