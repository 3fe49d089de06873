// Theme: "light" | "dark" forces our own palette; "auto" follows JupyterLab's --jp-*
// variables when the host defines them (light or dark), else the OS colour scheme.

/** Relative luminance of a CSS colour string (rgb/rgba/#hex), or null when unknown. */
export function luminance(color) {
  const probe = document.createElement("span");
  probe.style.color = color;
  if (!probe.style.color) return null;
  document.body.append(probe);
  const rgb = getComputedStyle(probe).color;
  probe.remove();
  const m = rgb.match(/rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)/);
  if (!m) return null;
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Watches the host and applies data-theme / data-host to the root element. */
export class ThemeWatcher {
  /** @param {HTMLElement} root @param {() => string} getTheme */
  constructor(root, getTheme) {
    this.root = root;
    this.getTheme = getTheme;
    this.media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
    this.onChange = () => this.apply();
    this.media?.addEventListener?.("change", this.onChange);
    // JupyterLab switches themes by flipping attributes on <body>.
    this.observer = new MutationObserver(this.onChange);
    this.observer.observe(document.body, {
      attributes: true,
      attributeFilter: [
        "data-jp-theme-light",
        "data-jp-theme-name",
        "class",
        "data-vscode-theme-kind",
      ],
    });
    this.apply();
  }

  apply() {
    const wanted = this.getTheme() || "auto";
    const root = this.root;
    if (wanted === "light" || wanted === "dark") {
      root.dataset.theme = wanted;
      delete root.dataset.host;
      return;
    }
    const body = document.body;
    const jpBg = getComputedStyle(body).getPropertyValue("--jp-layout-color0").trim();
    if (jpBg) {
      root.dataset.host = "jp";
      const light = body.dataset.jpThemeLight;
      let dark = light === "false";
      if (light === undefined) {
        const l = luminance(jpBg);
        dark = l !== null && l < 0.3;
      }
      root.dataset.theme = dark ? "dark" : "light";
      return;
    }
    // VS Code's notebook webviews: classes vscode-light / vscode-dark / vscode-high-contrast.
    const vscodeKind =
      body.dataset.vscodeThemeKind ||
      [...body.classList].find((c) => c.startsWith("vscode-")) ||
      "";
    if (vscodeKind) {
      root.dataset.host = "vscode";
      root.dataset.theme = /dark|high-contrast(?!-light)/.test(vscodeKind) ? "dark" : "light";
      return;
    }
    delete root.dataset.host;
    root.dataset.theme = this.media?.matches ? "dark" : "light";
  }

  destroy() {
    this.media?.removeEventListener?.("change", this.onChange);
    this.observer.disconnect();
  }
}
