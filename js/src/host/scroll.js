// Auto-scroll that sticks to the bottom while new content arrives, lets go when the user
// scrolls up, and offers a "Jump to latest" button until they come back down.

/** Distance from the bottom (px) that still counts as "at the bottom". */
const SLACK = 48;

export class StickyScroll {
  /** @param {HTMLElement} scroller @param {HTMLElement} jumpButton */
  constructor(scroller, jumpButton) {
    this.scroller = scroller;
    this.jump = jumpButton;
    this.stuck = true;
    this.lastTop = 0;
    this.onScroll = () => this._onScroll();
    this.onJump = () => this.toBottom(true);
    this.onUserIntent = (e) => {
      // Wheel up / PageUp / arrow keys: the user wants to read; let go at once.
      if (
        (e.type === "wheel" && e.deltaY < 0) ||
        (e.type === "keydown" && ["PageUp", "ArrowUp", "Home"].includes(e.key))
      ) {
        this.stuck = false;
        this._sync();
      }
    };
    scroller.addEventListener("scroll", this.onScroll, { passive: true });
    scroller.addEventListener("wheel", this.onUserIntent, { passive: true });
    scroller.addEventListener("keydown", this.onUserIntent);
    jumpButton.addEventListener("click", this.onJump);
    this._sync();
  }

  /** Pixels between the viewport bottom and the content bottom. */
  get distance() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight;
  }

  _onScroll() {
    const top = this.scroller.scrollTop;
    if (this.distance <= SLACK) this.stuck = true;
    else if (top < this.lastTop - 1) this.stuck = false;
    this.lastTop = top;
    this._sync();
  }

  /** Call after content changed: follow it when stuck, else show the jump button. */
  contentChanged() {
    if (this.stuck) this.toBottom(false);
    else this._sync();
  }

  /** Scroll to the newest content (and stick). @param {boolean} smooth */
  toBottom(smooth) {
    this.stuck = true;
    const s = this.scroller;
    if (smooth && typeof s.scrollTo === "function")
      s.scrollTo({ top: s.scrollHeight, behavior: "smooth" });
    else s.scrollTop = s.scrollHeight;
    this.lastTop = s.scrollTop;
    this._sync();
  }

  _sync() {
    const show = !this.stuck && this.distance > SLACK;
    if (this.jump.hidden === show) this.jump.hidden = !show;
  }

  destroy() {
    this.scroller.removeEventListener("scroll", this.onScroll);
    this.scroller.removeEventListener("wheel", this.onUserIntent);
    this.scroller.removeEventListener("keydown", this.onUserIntent);
    this.jump.removeEventListener("click", this.onJump);
  }
}
