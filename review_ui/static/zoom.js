// A zoomable, draggable image in a scrolling box: wheel zooms around the pointer, drag moves,
// the page's own keys call zoomIn / zoomOut / fit. Shared by the page view and the manual entry.
"use strict";

function makeZoomable(wrap, stage, img, onChange) {
  const z = { zoom: 1, fitted: true };

  function apply() {
    if (!img.naturalWidth) return;
    img.style.transform = `scale(${z.zoom})`;
    stage.style.width = `${img.naturalWidth * z.zoom}px`;
    stage.style.height = `${img.naturalHeight * z.zoom}px`;
    if (onChange) onChange(z.zoom);
  }

  z.set = (level, cx, cy) => {
    const old = z.zoom;
    z.zoom = Math.min(4, Math.max(0.1, level));
    z.fitted = false;
    // keep the point under the pointer (or the centre) where it is
    const px = cx === undefined ? wrap.clientWidth / 2 : cx;
    const py = cy === undefined ? wrap.clientHeight / 2 : cy;
    const ix = (wrap.scrollLeft + px) / old;
    const iy = (wrap.scrollTop + py) / old;
    apply();
    wrap.scrollLeft = ix * z.zoom - px;
    wrap.scrollTop = iy * z.zoom - py;
  };
  z.zoomIn = () => z.set(z.zoom * 1.25);
  z.zoomOut = () => z.set(z.zoom / 1.25);
  z.fit = () => {
    if (!img.naturalWidth || !wrap.clientWidth) return;
    z.zoom = Math.max(0.1, (wrap.clientWidth - 2) / img.naturalWidth);
    z.fitted = true;
    apply();
  };

  img.addEventListener("load", z.fit);
  window.addEventListener("resize", () => { if (z.fitted) z.fit(); });
  wrap.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = wrap.getBoundingClientRect();
    z.set(z.zoom * (ev.deltaY < 0 ? 1.15 : 1 / 1.15), ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  let drag = null;
  wrap.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, sl: wrap.scrollLeft, st: wrap.scrollTop };
    wrap.classList.add("dragging");
    wrap.setPointerCapture(ev.pointerId);
  });
  wrap.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    wrap.scrollLeft = drag.sl - (ev.clientX - drag.x);
    wrap.scrollTop = drag.st - (ev.clientY - drag.y);
  });
  const end = () => { drag = null; wrap.classList.remove("dragging"); };
  wrap.addEventListener("pointerup", end);
  wrap.addEventListener("pointercancel", end);
  return z;
}
