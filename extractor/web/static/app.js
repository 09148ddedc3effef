// Drag-and-drop onto the upload box, and the count of chosen files. No inline script anywhere (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  const chosen = document.getElementById("chosen");
  if (!drop || !input) return;
  const show = () => {
    const n = input.files ? input.files.length : 0;
    chosen.textContent = n ? `已选择 ${n} 个文件` : "";
  };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach((e) => drop.addEventListener(e, (ev) => { ev.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach((e) => drop.addEventListener(e, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      show();
    }
  });
});
