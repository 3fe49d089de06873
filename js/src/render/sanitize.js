// Sanitising untrusted HTML (model output rendered from markdown) with DOMPurify, a
// well-kept sanitiser. Our own DOMPurify instance, so our hooks never touch anyone else's.

import createDOMPurify from "dompurify";

/** Links may go to http(s) and mailto only; everything else (javascript:, data:,
 * vbscript:, relative paths into the Jupyter server…) loses its href. */
const SAFE_LINK = /^(?:https?:|mailto:)/i;
/** Images: inline raster data URLs (shown) or http(s) (turned into links). Never SVG. */
const SAFE_IMAGE = /^(?:https?:|data:image\/(?:png|gif|jpe?g|webp);base64,)/i;

let purifier = null;

/** The configured DOMPurify instance (created on first use, in the page's window). */
function instance() {
  if (purifier) return purifier;
  purifier = createDOMPurify(window);
  purifier.addHook("afterSanitizeAttributes", (node) => {
    const el = /** @type {Element} */ (node);
    if (el.tagName === "A") {
      const href = (el.getAttribute("href") || "").trim();
      if (href && !SAFE_LINK.test(href)) el.removeAttribute("href");
      el.setAttribute("target", "_blank");
      el.setAttribute("rel", "noopener noreferrer");
    } else if (el.tagName === "IMG") {
      // Only inline raster images keep a src; a remote one is parked (never fetched: the
      // fragment is imported into the live page, where an <img src> loads at once).
      const src = (el.getAttribute("src") || "").trim();
      el.removeAttribute("src");
      if (SAFE_IMAGE.test(src)) {
        if (/^data:/i.test(src)) el.setAttribute("src", src);
        else el.setAttribute("data-pw-src", src);
      }
    }
    // Model output never styles or identifies our page: ids could clobber globals.
    el.removeAttribute("style");
    el.removeAttribute("id");
  });
  return purifier;
}

const CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    "style",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "iframe",
    "object",
    "embed",
    "base",
    "meta",
    "link",
    "video",
    "audio",
    "source",
    "track",
    "picture",
  ],
  // Attributes that fetch or style: nothing in an answer may load a URL by itself.
  FORBID_ATTR: ["style", "srcset", "action", "formaction", "background", "poster", "ping"],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

/**
 * Sanitise an HTML string into a DocumentFragment safe to insert. Remote images become
 * links: loading them would let injected markdown send data to any server (the classic
 * "image URL exfiltration"), so the panel fetches nothing the user did not click.
 * @param {string} html
 */
export function sanitize(html) {
  const frag = /** @type {DocumentFragment} */ (instance().sanitize(html, CONFIG));
  for (const img of frag.querySelectorAll("img")) {
    if (img.hasAttribute("src")) continue;
    const src = img.getAttribute("data-pw-src") || "";
    const alt = img.getAttribute("alt") || "image";
    const replacement = document.createElement(src ? "a" : "span");
    replacement.className = "pw-image-link";
    replacement.textContent = `🖼 ${alt}`;
    if (src) {
      replacement.setAttribute("href", src);
      replacement.setAttribute("target", "_blank");
      replacement.setAttribute("rel", "noopener noreferrer");
      replacement.setAttribute("title", `Open image: ${src}`);
    }
    img.replaceWith(replacement);
  }
  return frag;
}

/** Whether a URL is one we would let a link point to. @param {string} url */
export function isSafeLink(url) {
  return SAFE_LINK.test(String(url).trim());
}
