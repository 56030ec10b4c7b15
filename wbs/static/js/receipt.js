// Receipt page (server-sealed path): a print button; nothing else runs here.
const section = document.getElementById("receipt");
const print = section?.querySelector(".print-button");
if (print) {
  print.hidden = false;
  print.addEventListener("click", () => window.print());
}
