// report.html's script, inline (the page stays one file that opens offline): the drill-down (a
// click on a request in the latency scatter shows its timeline; on a workload lane's bucket, the
// requests that ended there) over the JSON html_requests.cpp embeds; the zoom.
#include "html_parts.hpp"

namespace lastcall::reports::html {

std::string drilldown_script() {
    return R"js(
(function () {
  var source = document.getElementById('lc-requests');
  if (!source) return;
  var data = JSON.parse(source.textContent);
  var F = {};
  data.fields.forEach(function (name, i) { F[name] = i; });
  var colours = data.colours;
  // Why a request got its class (DESIGN.md's outcome classes), beside the wire's failure.
  var why = {
    ok: 'a complete response (a stream: complete, with its terminator)',
    ended_by_shutdown: 'a stream that ended early but cleanly: the shutdown notice, then its terminator',
    rejected: 'refused cleanly: 503, or connection refused after the listener closed; the server never took it',
    dropped: 'sent and taken by the server, but no complete response came (reset, EOF mid-response, truncated stream, timeout)',
    idle_close_race: 'the server closed a reused keep-alive connection (no Connection: close) as this request went out: zero response bytes',
    error: 'a complete response the scenario did not expect (its status or its contract)',
    unknown: 'lastcall cannot tell (the scenario SIGKILLed the target, or lastcall itself failed on it)'
  };
  var panel = document.getElementById('lc-detail');
  function failure(r) { return r[F.failure] === 'none' ? '' : r[F.failure]; }  // '' when nothing went wrong on the wire
  function sec(us) { return us < 0 ? '-' : (us / 1e6).toFixed(3) + ' s'; }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs, text) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // The request's own timeline: intended start, sent, first byte, end on one bar.
  function timeline(r) {
    var moments = [['intended', r[F.intended_us]], ['sent', r[F.sent_us]], ['first byte', r[F.first_byte_us]], ['end', r[F.done_us]]]
      .filter(function (m) { return m[1] >= 0; });
    var svg = svgEl('svg', { viewBox: '0 0 640 74', width: '640', 'font-size': '10', 'font-family': 'sans-serif' });
    if (moments.length === 0) return svg;
    var a = moments[0][1], z = moments[moments.length - 1][1], span = Math.max(1, z - a);
    var x = function (t) { return 20 + 600 * (t - a) / span; };
    svg.appendChild(svgEl('rect', { x: 20, y: 32, width: Math.max(2, x(z) - 20), height: 8, fill: colours[r[F.outcome]] || '#999' }));
    moments.forEach(function (m, k) {
      svg.appendChild(svgEl('line', { x1: x(m[1]), y1: 26, x2: x(m[1]), y2: 46, stroke: '#333' }));
      var at = x(m[1]);  // labels near an end grow inwards, so none is cut at the edge
      // A row of its own each (two above the bar, two below): moments microseconds apart do not overlap.
      var label = svgEl('text', { x: at, y: [10, 58, 22, 70][k], 'text-anchor': at < 120 ? 'start' : at > 520 ? 'end' : 'middle', fill: '#333' },
                        m[0] + ' ' + sec(m[1]));
      svg.appendChild(label);
    });
    return svg;
  }
  function show(i) {
    var r = data.requests[i];
    panel.textContent = '';
    var outcome = r[F.outcome];
    var head = el('div', { class: 'req-head' });
    head.appendChild(el('b', {}, 'request #' + r[F.id] + ' (' + data.workloads[r[F.workload]] + '): '));
    head.appendChild(el('span', { style: 'color:' + (colours[outcome] || '#333') + ';font-weight:bold' }, outcome));
    head.appendChild(el('span', {}, ' \u2014 ' + (why[outcome] || '')));
    panel.appendChild(head);
    panel.appendChild(timeline(r));
    var rows = [
      ['failure on the wire', failure(r) || 'none'],
      ['status', r[F.status] || 'no status line'],
      ['latency (intended start to end)', r[F.done_us] >= 0 ? ((r[F.done_us] - r[F.intended_us]) / 1e3).toFixed(3) + ' ms' : '-'],
      ['connection', 'conn ' + r[F.connection] + (r[F.reuse] ? ', request ' + (r[F.reuse] + 1) + ' on it' : ', its first request')],
      ['bytes received', r[F.bytes] + ' on the wire, ' + r[F.body_bytes] + ' of body' + (r[F.events] ? ', ' + r[F.events] + ' SSE events' : '')],
      ['stream end', r[F.stream_end] || 'none (not a stream, or no end marker seen)'],
      ['Connection: close', r[F.connection_close] ? 'yes' : 'no'],
      ['closed by the server after it', r[F.closed_after_us] >= 0 ? 'at ' + sec(r[F.closed_after_us]) : 'no'],
      ['retry', r[F.retry_of] ? 'retry of #' + r[F.retry_of] : r[F.retried] ? 'retried' : 'none'],
      ['Retry-After', r[F.retry_after_s] === -1 ? 'none' : r[F.retry_after_s] === -2 ? 'an HTTP date' : r[F.retry_after_s] + ' s']
    ];
    var table = el('table', { class: 'req' });
    rows.forEach(function (row) {
      var tr = el('tr');
      tr.appendChild(el('td', {}, row[0]));
      tr.appendChild(el('td', {}, String(row[1])));
      table.appendChild(tr);
    });
    panel.appendChild(table);
  }
  // The embedded requests of workload w that ended in [a, b): the ones not ok first.
  function list(w, a, b) {
    var found = [];
    data.requests.forEach(function (r, i) {
      if (r[F.workload] === w && r[F.done_us] >= a && r[F.done_us] < b) found.push(i);
    });
    found.sort(function (i, j) { return (data.requests[i][F.outcome] === 'ok') - (data.requests[j][F.outcome] === 'ok'); });
    panel.textContent = '';
    panel.appendChild(el('div', { class: 'req-head' }, data.workloads[w] + ', ended ' + sec(a) + ' to ' + sec(b) + ': ' + found.length +
                         ' embedded request' + (found.length === 1 ? '' : 's') + (found.length ? ' (click one)' : '')));
    var ul = el('ul', { class: 'req-list' });
    found.slice(0, 200).forEach(function (i) {
      var r = data.requests[i];
      var li = el('li', {});
      var link = el('a', { href: '#', style: 'color:' + (colours[r[F.outcome]] || '#333') }, '#' + r[F.id] + ' ' + r[F.outcome] +
                    (failure(r) ? ' (' + failure(r) + ')' : '') + ', sent ' + sec(r[F.sent_us]) + ', ended ' + sec(r[F.done_us]));
      link.addEventListener('click', function (e) { e.preventDefault(); show(i); });
      li.appendChild(link);
      ul.appendChild(li);
    });
    if (found.length > 200) ul.appendChild(el('li', {}, '... and ' + (found.length - 200) + ' more'));
    panel.appendChild(ul);
  }
  window.lastcallDetail = { show: show, list: list };
  document.querySelector('svg.timeline').addEventListener('click', function (e) {
    if (window.lastcallDragged) return;  // the end of a zoom's drag, not a click
    var t = e.target;
    if (t.getAttribute('data-i') !== null) show(+t.getAttribute('data-i'));
    else if (t.classList.contains('wl')) list(+t.getAttribute('data-w'), +t.getAttribute('data-a'), +t.getAttribute('data-b'));
  });
  // Open on the request a reader of a failing run looks for first: the first dropped, else the
  // first of the next class down; none when every request was ok.
  var worst = ['dropped', 'error', 'unknown', 'idle_close_race', 'rejected', 'ended_by_shutdown'];
  for (var w = 0; w < worst.length; w++) {
    var first = data.requests.findIndex(function (r) { return r[F.outcome] === worst[w]; });
    if (first >= 0) { show(first); break; }
  }
})();
)js";
}

// The drawing is made for the whole run; a zoom to [from, to] stretches every `g.zoom` along x
// (x' = left + k (x - x(from)), k = run / (to - from): one transform per group, no redrawing),
// moves the text placed by time (data-t, data-dx) and writes the time axis's ticks again.
// Strokes and points keep their width (vector-effect: non-scaling-stroke).
std::string zoom_script() {
    return R"js(
(function () {
  var svg = document.querySelector('svg.timeline');
  if (!svg) return;
  var NS = 'http://www.w3.org/2000/svg';
  var L = +svg.getAttribute('data-left'), W = +svg.getAttribute('data-plot-width');
  var T = +svg.getAttribute('data-end-us'), axisY = +svg.getAttribute('data-axis-y');
  var view = [0, T];
  var range = document.getElementById('lc-zoom-range');
  function xOf(t) { return L + W * (t - view[0]) / (view[1] - view[0]); }
  function tOf(x) { return view[0] + (x - L) / W * (view[1] - view[0]); }
  function niceStep(span, ticks) {
    var raw = span / ticks;
    if (!(raw > 0)) return 1;
    var magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    var factors = [1, 2, 5];
    for (var i = 0; i < factors.length; i++) if (factors[i] * magnitude >= raw) return factors[i] * magnitude;
    return 10 * magnitude;
  }
  function apply() {
    var k = T / (view[1] - view[0]);
    var shift = L - k * (L + W * view[0] / T);
    svg.querySelectorAll('g.zoom').forEach(function (g) { g.setAttribute('transform', 'translate(' + shift + ',0) scale(' + k + ',1)'); });
    svg.querySelectorAll('[data-t]').forEach(function (e) {
      var x = xOf(+e.getAttribute('data-t'));
      e.setAttribute('x', x + (+e.getAttribute('data-dx') || 0));
      e.style.display = x < L - 1 || x > L + W + 1 ? 'none' : '';
    });
    svg.querySelectorAll('text.xtick').forEach(function (e) { e.remove(); });
    var from = view[0] / 1e6, to = view[1] / 1e6, step = niceStep(to - from, 10);
    for (var i = Math.ceil(from / step - 1e-9); i * step <= to * (1 + 1e-9); i++) {
      var t = i * step;
      var tick = document.createElementNS(NS, 'text');
      tick.setAttribute('class', 'xtick');
      tick.setAttribute('x', xOf(t * 1e6));
      tick.setAttribute('y', axisY);
      tick.setAttribute('text-anchor', 'middle');
      tick.setAttribute('fill', '#555');
      tick.textContent = parseFloat(t.toPrecision(10)) + 's';
      svg.appendChild(tick);
    }
    if (range) range.textContent = view[0] === 0 && view[1] === T ? 'the whole run; drag across the timeline to zoom'
                                 : 'showing ' + from.toFixed(3) + ' s to ' + to.toFixed(3) + ' s of ' + (T / 1e6).toFixed(3) + ' s';
  }
  function zoomTo(from, to) {
    var span = Math.max(to - from, Math.min(1000, T));  // at most 1 ms across the plot
    var centre = (from + to) / 2;
    from = Math.max(0, centre - span / 2);
    to = Math.min(T, from + span);
    view = [Math.max(0, to - span), to];
    apply();
  }
  function at(e) {  // the pointer in the drawing's units
    var p = svg.createSVGPoint();
    p.x = e.clientX;
    p.y = e.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }
  var start = null, selection = null;
  svg.addEventListener('mousedown', function (e) {
    var p = at(e);
    if (e.button !== 0 || p.x < L || p.x > L + W) return;
    start = p.x;
    e.preventDefault();  // no text selection while dragging
  });
  svg.addEventListener('mousemove', function (e) {
    if (start === null) return;
    var x = Math.min(Math.max(at(e).x, L), L + W);
    if (!selection && Math.abs(x - start) < 4) return;
    if (!selection) {
      selection = document.createElementNS(NS, 'rect');
      selection.setAttribute('y', 0);
      selection.setAttribute('height', axisY);
      selection.setAttribute('fill', '#1565c0');
      selection.setAttribute('fill-opacity', '0.12');
      svg.appendChild(selection);
    }
    selection.setAttribute('x', Math.min(start, x));
    selection.setAttribute('width', Math.abs(x - start));
  });
  window.addEventListener('mouseup', function (e) {
    if (start === null) return;
    if (selection) {
      var x = Math.min(Math.max(at(e).x, L), L + W);
      selection.remove();
      selection = null;
      window.lastcallDragged = true;  // the click that ends a drag is not a click on a request
      setTimeout(function () { window.lastcallDragged = false; }, 0);
      zoomTo(tOf(Math.min(start, x)), tOf(Math.max(start, x)));
    }
    start = null;
  });
  function button(id, act) {
    var b = document.getElementById(id);
    if (b) b.addEventListener('click', act);
  }
  button('lc-zoom-in', function () { var q = (view[1] - view[0]) / 4; zoomTo(view[0] + q, view[1] - q); });
  button('lc-zoom-out', function () { var h = (view[1] - view[0]); zoomTo(view[0] - h / 2, view[1] + h / 2); });
  button('lc-zoom-reset', function () { view = [0, T]; apply(); });
  window.lastcallZoom = { to: zoomTo, reset: function () { view = [0, T]; apply(); } };
  apply();
})();
)js";
}

} // namespace lastcall::reports::html
