// The kiosk screen's keypad and keyboard. The page works without this script (a plain
// form); with it: the on-screen keypad types into the amount (or the PIN), digits typed
// anywhere go to the amount, Escape cancels (or starts the next sale after a result), Enter
// on a choice pays, only the chosen way of paying shows its fields, and the offline banner
// follows the kiosk's link to Saku (a screen shown before the kiosk knew its categories
// reloads once it knows them, unless the cashier has started a sale).
"use strict";

(function () {
  document.documentElement.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("sale");
    if (!form) {
      return;
    }
    const amount = document.getElementById("amount");
    const shown = document.getElementById("amount-shown");
    const pay = document.getElementById("pay");
    const paying = document.getElementById("paying");
    const banner = document.getElementById("offline");
    // the field the keypad types into: the amount, or the PIN once it has the cursor
    let target = document.activeElement.matches("[data-keypad]") ? document.activeElement : amount;

    // the on-screen keypad stands in for the phone's own keyboard
    amount.setAttribute("inputmode", "none");

    function digits(text) {
      return text.replace(/\D/g, "");
    }

    function showAmount() {
      const whole = digits(amount.value).replace(/^0+(?=\d)/, "") || "0";
      const separator = shown.dataset.separator;
      shown.textContent = "Rp " + whole.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
    }

    function press(field, key) {
      let value = digits(field.value);
      if (key === "back") {
        value = value.slice(0, -1);
      } else {
        value = (value + key).slice(0, Number(field.dataset.keypad) || 8);
      }
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }

    form.addEventListener("focusin", function (event) {
      if (event.target.matches("[data-keypad]")) {
        target = event.target;
      }
    });

    document.querySelectorAll("[data-key]").forEach(function (button) {
      // keep the focus (and so the cursor) in the field being typed into
      button.addEventListener("pointerdown", function (event) {
        event.preventDefault();
      });
      button.addEventListener("click", function () {
        press(target, button.dataset.key);
        target.focus();
      });
    });

    amount.addEventListener("input", function () {
      const clean = digits(amount.value).slice(0, Number(amount.dataset.keypad));
      if (clean !== amount.value) {
        amount.value = clean;
      }
      showAmount();
    });

    function showMethod() {
      const chosen = form.querySelector("input[name=method]:checked");
      const method = chosen ? chosen.value : "fingerprint";
      form.querySelectorAll("[data-for]").forEach(function (part) {
        part.hidden = !part.dataset.for.split(" ").includes(method);
      });
    }
    form.querySelectorAll("input[name=method]").forEach(function (radio) {
      radio.addEventListener("change", showMethod);
    });
    showMethod();

    function cancel() {
      amount.value = "";
      const noCategory = form.querySelector("input[name=category][value='']");
      if (noCategory) {
        noCategory.checked = true; // absent while the kiosk does not know its categories
      }
      form.querySelector("input[name=method][value=fingerprint]").checked = true;
      ["student", "pin", "staff"].forEach(function (id) {
        document.getElementById(id).value = "";
      });
      showAmount();
      showMethod();
      amount.focus();
    }

    function typing(element) {
      return element.matches("input:not([type]), input[type=text], input[type=password]");
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey || event.isComposing) {
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        if (document.getElementById("result")) {
          window.location.assign("/"); // the next sale
        } else {
          cancel();
        }
      } else if (event.key === "Enter" && event.target.matches("#sale input[type=radio]")) {
        event.preventDefault();
        form.requestSubmit();
      } else if (/^[0-9]$/.test(event.key) && !typing(event.target)) {
        event.preventDefault();
        press(amount, event.key);
        amount.focus();
      }
    });

    form.addEventListener("submit", function (event) {
      if (form.dataset.busy) {
        event.preventDefault(); // a second tap while the first is being decided
        return;
      }
      form.dataset.busy = "1";
      pay.disabled = true;
      paying.hidden = false;
    });
    window.addEventListener("pageshow", function () {
      delete form.dataset.busy;
      pay.disabled = false;
      paying.hidden = true;
    });

    function say(id, words) {
      const part = document.getElementById(id);
      if (part.textContent !== words) {
        part.textContent = words; // only a change: a screen reader reads it out again
      }
    }

    async function followLink() {
      try {
        const answer = await fetch("/status", { cache: "no-store" });
        const status = await answer.json();
        const kind = status.offline_caps_known ? "caps" : "nocaps";
        say("offline-title", banner.dataset[kind + "Title"]);
        say("offline-detail", banner.dataset[kind + "Detail"]);
        banner.hidden = !status.selling_offline;
        const waiting = document.querySelector("[data-reload-when-known]");
        const untouched = !amount.value && !form.dataset.busy && !document.getElementById("result");
        if (waiting && status.categories_known && untouched) {
          window.location.assign("/");
        }
      } catch (err) {
        // the screen's own server is restarting: keep showing what was last known
      }
    }
    setInterval(followLink, 2000);
  });
})();
