// The report's one script (the page reads fine without it): clicking a legend entry hides or
// shows that group's curve and published lines; once the page and its pictures have loaded, the
// body says how many drawn charts, group rows and decoded pictures it holds (data-charts,
// data-group-rows, data-pictures, data-pictures-loaded) and data-ready="1".
(function () {
  for (const item of document.querySelectorAll('li.legend-item')) {
    item.addEventListener('click', () => {
      const off = item.classList.toggle('off');
      const svg = item.closest('figure').querySelector('svg');
      for (const el of svg.querySelectorAll(`[data-group="${item.dataset.group}"]`)) {
        el.style.display = off ? 'none' : '';
      }
    });
  }
  window.addEventListener('load', () => {
    const body = document.body;
    const images = [...document.images];
    // A chart counts when it has curves and the browser laid it out.
    const charts = [...document.querySelectorAll('svg.curves')]
      .filter((svg) => svg.querySelector('g.curve') && svg.getBoundingClientRect().width > 0);
    body.dataset.charts = String(charts.length);
    body.dataset.groupRows = String(document.querySelectorAll('#group-table tbody tr').length);
    body.dataset.pictures = String(images.length);
    body.dataset.picturesLoaded = String(images.filter((i) => i.complete && i.naturalWidth > 0).length);
    body.dataset.ready = '1';
  });
})();
