// Citation links (#source/<article id>/<start>/<end>) open the source panel: the link's span
// goes into a hidden textbox and a hidden button asks the server to render that article.
// Capture phase, so the chat's own link handling (open in a new tab) never sees the click.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#source/"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const box = document.querySelector("#source-request textarea, #source-request input");
  const button = document.querySelector("#source-open");
  if (!box || !button) return;
  const setValue = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), "value").set;
  // a click counter after '#' makes every click a change, even on the same link twice
  setValue.call(box, link.getAttribute("href") + "#" + Date.now());
  box.dispatchEvent(new Event("input", { bubbles: true }));
  setTimeout(() => button.click(), 0);
}, true);

// Called by the app after the source panel re-renders.
window.ragScrollToCitation = () => {
  setTimeout(() => {
    const mark = document.getElementById("cited-span");
    if (mark) mark.scrollIntoView({ block: "center", behavior: "instant" });
  }, 100);
};
