// A denied or timed-out approval, as the user should read it: "Denied by you: <reason>",
// "Approval timed out". Server jargon ("Error: Blocked by hook — Denied by user: …") is cut.

/** Prefixes agent servers put before a refusal reason, which mean nothing to a user. */
const JARGON =
  /^(?:\s*(?:error:\s*)?blocked by (?:a )?hook\s*[—–:-]+\s*|\s*denied by (?:the )?user\s*[:—–-]\s*|\s*denied\s*:\s*)+/i;

/** A refusal that carries no reason of its own. */
const BARE = /^(?:denied|rejected)(?: by (?:the )?user)?\.?$/i;

/** A refusal reason without server jargon. @param {string|null|undefined} text */
export function plainReason(text) {
  if (text === null || text === undefined) return "";
  const reason = String(text).replace(JARGON, "").trim();
  // A refusal with no reason ("Denied by user") says nothing the outcome line does not.
  return BARE.test(reason) ? "" : reason;
}

/** Whether a reason or outcome says the approval timed out. @param {any} s */
function timedOut(s) {
  return s === "timed_out" || s === "timeout" || /\btimed?[ _-]?out\b/i.test(String(s || ""));
}

/**
 * The denial of a tool call, or null. Read from the tool item itself (`state: "denied"`,
 * `outcome`/`reason`) or from the turn's approval item for the same call (by callId, the
 * item it points at, or tool name): `{timedOut, reason}`.
 * @param {any} tool @param {any} [turn]
 */
export function denialOf(tool, turn) {
  const own = tool.state === "denied" || tool.state === "timed_out";
  let approval = null;
  if (turn && Array.isArray(turn.items)) {
    for (const a of turn.items) {
      if (a.kind !== "approval") continue;
      const same =
        a.call === tool ||
        (a.callId && a.callId === tool.callId) ||
        (!a.call && !a.callId && a.toolName === tool.toolName);
      if (same) approval = a;
    }
  }
  const approvalDenied =
    approval && (approval.state === "denied" || approval.state === "timed_out");
  if (!own && !approvalDenied) return null;
  const reason = plainReason(tool.reason ?? approval?.reason ?? tool.note ?? null) || null;
  const late =
    timedOut(tool.state) ||
    timedOut(tool.outcome) ||
    timedOut(approval?.state) ||
    timedOut(approval?.outcome) ||
    (reason !== null && timedOut(reason) && !/\bby you\b/i.test(reason));
  return { timedOut: Boolean(late), reason: late ? null : reason };
}

/**
 * Whether an approval item is already told by its tool's card (a resolved denial): the
 * panel then shows one card for the call, not two.
 * @param {any} approval @param {any} turn
 */
export function toldByToolCard(approval, turn) {
  if (approval.state === "pending" || approval.state === "approved") return false;
  return turn.items.some(
    (t) =>
      t.kind === "tool" &&
      denialOf(t, turn) !== null &&
      (approval.call === t ||
        (approval.callId && approval.callId === t.callId) ||
        (!approval.call && !approval.callId && approval.toolName === t.toolName)),
  );
}
