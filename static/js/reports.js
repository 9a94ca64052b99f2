/* The dashboard's charts (Chart.js from static/vendor). The figures come from a json_script block; every
 * chart has the same figures as a table beside it, so nothing depends on this file. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var toNumber = function (text) { return Number(text); }; // drawing only: amounts stay strings elsewhere
  var green = "#0b6e4f", grey = "#9aa5b1";

  var hours = document.getElementById("chart-hours");
  if (hours) {
    new window.Chart(hours, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Today", data: data.today.map(toNumber), backgroundColor: green },
          { label: "Same day last week", data: data.week_ago.map(toNumber), backgroundColor: grey }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v.toLocaleString(); } } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }
  var mix = document.getElementById("chart-mix");
  if (mix && data.mix.length) {
    new window.Chart(mix, {
      type: "doughnut",
      data: {
        labels: data.mix_labels,
        datasets: [{ data: data.mix.map(toNumber), backgroundColor: [green, "#3aa76d", "#f0ad4e", "#5b8def", "#b07cc6", grey] }]
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { position: "bottom" } } }
    });
  }
})();
