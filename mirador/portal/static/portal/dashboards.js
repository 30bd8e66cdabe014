/* Mirador's dashboards: draws the charts with plotly.js (served by Mirador from the installed
   plotly package) from the JSON each chart's page carries, again after htmx swaps in new
   figures; keeps the filter form and the language switch in step with the URL. Without
   JavaScript the pages show the same figures in their tables. */
(function () {
  "use strict";

  var SPANISH = (document.documentElement.lang || "es").indexOf("es") === 0;
  var BLUE = "#0b5cab";
  var FIGURES = "dashboard-figures";

  if (window.Plotly && SPANISH) {
    window.Plotly.register({
      moduleType: "locale",
      name: "es",
      dictionary: {},
      format: {
        days: ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
        shortDays: ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
        months: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre"],
        shortMonths: ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct",
          "nov", "dic"],
        date: "%d/%m/%Y",
        decimal: ",",
        thousands: "."
      }
    });
  }

  function narrow() {
    return window.matchMedia("(max-width: 40rem)").matches;
  }

  function baseLayout() {
    return {
      autosize: true,
      height: narrow() ? 260 : 320,
      margin: { l: 56, r: 12, t: 12, b: 40 },
      separators: SPANISH ? ",." : ".,",
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 13 },
      legend: { orientation: "h", x: 0, y: -0.18 },
      hovermode: "x unified"
    };
  }

  function config() {
    return {
      responsive: true,
      displaylogo: false,
      locale: SPANISH ? "es" : "en",
      displayModeBar: narrow() ? false : "hover",
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"]
    };
  }

  function asDate(period) {
    return period.length === 4 ? period + "-01-01" : period + "-01";
  }

  function seriesChart(element, data) {
    var traces = [];
    var forecast = data.forecast || [];
    var yearly = data.period_type === "year";
    if (forecast.length) {
      var x = forecast.map(function (point) { return asDate(point.x); });
      var band = function (low, high, name, colour) {
        traces.push({
          x: x, y: forecast.map(function (point) { return point[low]; }), type: "scatter",
          mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false
        });
        traces.push({
          x: x, y: forecast.map(function (point) { return point[high]; }), type: "scatter",
          mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: colour, name: name,
          hoverinfo: "skip"
        });
      };
      band("lo95", "hi95", data.labels.band95, "rgba(11, 92, 171, 0.12)");
      band("lo80", "hi80", data.labels.band80, "rgba(11, 92, 171, 0.26)");
      traces.push({
        x: x, y: forecast.map(function (point) { return point.mean; }), type: "scatter",
        mode: "lines", name: data.labels.forecast, line: { color: BLUE, dash: "dash", width: 2 },
        hovertemplate: "%{y:,.0f}<extra>" + data.labels.forecast + "</extra>"
      });
    }
    traces.push({
      x: data.x.map(asDate), y: data.y, type: "scatter", mode: data.x.length > 60 ? "lines" : "lines+markers",
      name: data.labels.observed, connectgaps: false, line: { color: "#1d2430", width: 2 },
      marker: { size: 5 }, hovertemplate: "%{y:,}<extra>" + data.labels.observed + "</extra>"
    });
    var layout = baseLayout();
    var periods = data.x.length + forecast.length;
    layout.xaxis = {
      type: "date", automargin: true, tickformat: yearly ? "%Y" : "%b %Y",
      hoverformat: yearly ? "%Y" : "%B %Y"
    };
    if (periods < 8) {
      // A short series: one tick per period, and room either side of a single one.
      layout.xaxis.dtick = yearly ? "M12" : "M1";
      var first = new Date(asDate(data.x[0]));
      var last = new Date(asDate(forecast.length ? forecast[forecast.length - 1].x : data.x[data.x.length - 1]));
      var pad = (yearly ? 183 : 15) * 86400000;
      layout.xaxis.range = [new Date(first.getTime() - pad), new Date(last.getTime() + pad)];
    }
    layout.yaxis = { rangemode: "tozero", automargin: true, separatethousands: true };
    layout.showlegend = forecast.length > 0;
    return window.Plotly.react(element, traces, layout, config());
  }

  function barChart(element, data) {
    var labels = data.labels.slice().reverse();
    var values = data.values.slice().reverse();
    var layout = baseLayout();
    layout.height = Math.max(180, 28 * labels.length + 60);
    layout.margin = { l: 12, r: 12, t: 8, b: 32 };
    layout.xaxis = { rangemode: "tozero", automargin: true, separatethousands: true };
    layout.yaxis = { automargin: true, type: "category" };
    layout.hovermode = "closest";
    layout.showlegend = false;
    return window.Plotly.react(element, [{
      type: "bar", orientation: "h", x: values, y: labels, marker: { color: BLUE },
      hovertemplate: "%{y}: %{x:,}<extra></extra>"
    }], layout, config());
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart-data"));
    if (!source || !window.Plotly) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var drawn = element.getAttribute("data-chart") === "bars" ? barChart(element, data) : seriesChart(element, data);
    drawn.then(function () { element.setAttribute("data-drawn", "true"); });
  }

  function drawAll(root) {
    var charts = root.querySelectorAll ? root.querySelectorAll("[data-chart]") : [];
    Array.prototype.forEach.call(charts, draw);
  }

  function purgeAll(root) {
    if (!window.Plotly || !root.querySelectorAll) {
      return;
    }
    Array.prototype.forEach.call(root.querySelectorAll("[data-chart]"), function (element) {
      window.Plotly.purge(element);
    });
  }

  // The form shows what the URL asks for (after a choice on the map, or back and forward).
  function syncForm() {
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(document.querySelectorAll(".dashboard-filters select"), function (select) {
      var values = (params.get(select.name) || "").split(",").filter(Boolean);
      var hasAll = select.options.length && select.options[0].value === "";
      if (!values.length && !hasAll) {
        return;
      }
      Array.prototype.forEach.call(select.options, function (option) {
        option.selected = values.length ? values.indexOf(option.value) >= 0 : option.value === "";
      });
    });
    var next = document.querySelector(".language input[name=next]");
    if (next) {
      next.value = window.location.pathname + window.location.search;
    }
  }

  function announce(root) {
    var status = document.getElementById("dashboard-status");
    var summary = root.querySelector ? root.querySelector("[data-summary]") : null;
    if (status && summary) {
      status.textContent = summary.textContent.replace(/\s+/g, " ").trim();
    }
  }

  // A forecast being computed in the background: ask for the figures again a few times,
  // so that the band appears when it is ready (never more than REFRESHES times a view).
  var REFRESHES = 6;
  var REFRESH_AFTER_MS = 5000;
  var refreshes = 0;
  var refreshTimer = null;

  function refreshWhilePending(root) {
    window.clearTimeout(refreshTimer);
    var pending = root.querySelector ? root.querySelector("[data-forecast=pending]") : null;
    var figures = document.getElementById(FIGURES);
    if (!pending || !figures || !window.htmx || refreshes >= REFRESHES) {
      return;
    }
    refreshTimer = window.setTimeout(function () {
      refreshes += 1;
      window.htmx.ajax("GET", window.location.pathname + window.location.search, {
        target: "#" + FIGURES, swap: "innerHTML"
      });
    }, REFRESH_AFTER_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    refreshWhilePending(document);
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest && event.target.closest(".dashboard-filters")) {
      refreshes = 0;  // a new selection may have its own forecast to wait for
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== FIGURES) {
      return;
    }
    // A refused question (400) says why in place of the figures.
    if (event.detail.xhr && event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    if (event.detail.shouldSwap) {
      purgeAll(target);
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target || event.detail.elt;
    if (target && target.id === FIGURES) {
      drawAll(target);
      announce(target);
      refreshWhilePending(target);
    }
  });
  document.addEventListener("htmx:pushedIntoHistory", syncForm);
  document.addEventListener("htmx:historyRestore", function () {
    syncForm();
    drawAll(document);
  });
  window.addEventListener("resize", function () {
    if (!window.Plotly) {
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart][data-drawn]"), function (element) {
      window.Plotly.Plots.resize(element);
    });
  });
})();
