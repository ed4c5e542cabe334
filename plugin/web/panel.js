/*
 * panel.js - the one script of the panel: on the create, edit and clone
 * form, choosing "Notify me when" brings that type's conditions and
 * frequencies in place, without the extra step. Everything works without
 * it; no framework, nothing from elsewhere.
 */
(function () {
    "use strict";
    var typeForm = document.getElementById("type-form");
    var select = document.getElementById("type");
    if (!typeForm || !select || !window.fetch || !window.URLSearchParams) {
        return;
    }
    /* A live region made at once (one that appears with its text is not read):
     * it tells screen reader users that the rest of the form changed. */
    var status = document.createElement("p");
    status.className = "sr";
    status.setAttribute("role", "status");
    typeForm.appendChild(status);
    select.addEventListener("change", function () {
        var params = new URLSearchParams(new FormData(typeForm));
        var url = typeForm.getAttribute("action") + "?" + params.toString();
        params.set("fragment", "1");
        fetch(typeForm.getAttribute("action") + "?" + params.toString(),
              { credentials: "same-origin" })
            .then(function (r) {
                if (!r.ok) { throw new Error(r.status); }
                return r.text();
            })
            .then(function (html) {
                var rest = document.getElementById("rest");
                var box = document.createElement("div");
                box.innerHTML = html;
                if (rest && box.firstElementChild) {
                    rest.replaceWith(box.firstElementChild);
                    /* the error the type was marked by went with the old rest */
                    select.removeAttribute("aria-invalid");
                    select.removeAttribute("aria-describedby");
                    window.history.replaceState(null, "", url);
                    status.textContent = select.value
                        ? "Where and Frequency below are now those of " +
                          select.options[select.selectedIndex].text + "."
                        : "";
                }
            })
            .catch(function () { typeForm.submit(); });
    });
}());
