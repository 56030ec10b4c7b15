// Test page script: exposes the browser crypto module as window.wbs for Playwright tests.
// data-ready on <html> becomes "ok" once loaded, or the error message if the import failed.
import("/crypto/js/wbs-crypto.js").then(
  (module) => {
    window.wbs = module;
    document.documentElement.dataset.ready = "ok";
  },
  (err) => {
    document.documentElement.dataset.ready = `error: ${err}`;
  },
);
