// @ts-check
// The panel's wire, typed: the entries Python folds and sends (powawidget/model/view.py)
// and the messages both ways (powawidget/notebook/messages.py). This file mirrors those
// TypedDicts; tests/notebook/test_panel_conformance.py holds the two sides to one answer.

/**
 * @typedef {{kind: "step", step: number|null, done: boolean}} StepView
 * @typedef {{kind: "text", text: string}} TextView
 * @typedef {{kind: "reasoning", step: number|null, text: string, done: boolean,
 *   durationMs: number|null}} ReasoningView
 * @typedef {{kind: "approval", callId: string|null, toolName: string|null,
 *   message: string|null, state: "pending"|"approved"|"denied"|"timed_out",
 *   reason: string|null, timeoutS: number|null}} ApprovalView
 * @typedef {{kind: "tool", callId: string|null, toolName: string, arguments: any,
 *   result: string|null, resultTruncated: boolean, preview: boolean,
 *   state: "pending"|"running"|"done"|"error"|"denied", durationMs: number|null,
 *   approvalWaitMs: number|null, approval: ApprovalView|null,
 *   step: number|null, calledAt: string|null, finishedAt: string|null,
 *   note: string|null, rev?: number}} ToolView
 * @typedef {{kind: "reset", step: number|null, reason: string|null}} ResetView
 * @typedef {{kind: "delegation", agent: string|null, task: string|null,
 *   childRunId: string|null, callId: string|null,
 *   status: "running"|"completed"|"failed"|"stopped", startedAt: string|null,
 *   durationMs: number|null, steps: number, usage: Record<string, number>|null,
 *   run: TurnView}} DelegationView
 * @typedef {{agent: string|null, runId: string|null, depth: number,
 *   usage: Record<string, number>|null}} RunUsageView
 * @typedef {StepView|TextView|ReasoningView|ToolView|ResetView|DelegationView} ItemView
 * @typedef {{message: string, code: string|null, step: number|null}} ErrorView
 * @typedef {{kind: "turn", runId: string|null, sessionId: string|null,
 *   userText: string|null, answer: string|null, items: ItemView[], steps: number,
 *   status: "streaming"|"waiting_approval"|"completed"|"failed"|"stopped",
 *   usage: Record<string, number>|null, error: ErrorView|null, fromHistory: boolean,
 *   citations: any[]|null, startedAt: string|null, endedAt: string|null,
 *   runMs?: number|null, agent: string|null, depth: number, runUsage: RunUsageView[]|null,
 *   usageTotal: Record<string, number>|null, context?: Record<string, any>[]|null,
 *   answerJson?: any}} TurnView
 * @typedef {{kind: "divider", at: string|null}} DividerView
 * @typedef {{kind: "history-note", tools: boolean, text: string}} HistoryNoteView
 * @typedef {TurnView|DividerView|HistoryNoteView} EntryView
 *
 * @typedef {{op: "entry", at: number, entry: EntryView}} EntryOp
 * @typedef {{op: "turn", at: number, set: Record<string, any>}} TurnOp
 * @typedef {{op: "item", at: number, index: number, item: ItemView}} ItemOp
 * @typedef {{op: "text", at: number, index: number, append: string}} TextOp
 * @typedef {{op: "trim", at: number, items: number}} TrimOp
 * @typedef {{op: "run-text", at: number, index: number, sub: number, append: string}} RunTextOp
 * @typedef {EntryOp|TurnOp|ItemOp|TextOp|RunTextOp|TrimOp} Op
 *
 * @typedef {{type: "snapshot", seq: number, entries: EntryView[]}} Snapshot
 * @typedef {{type: "patch", seq: number, ops: Op[]}} Patch
 * @typedef {{session_id: string|null, first_message: string|null,
 *   last_activity: string|null, runs: number|null, current: boolean}} SessionRow
 * @typedef {{type: "sessions", sessions?: SessionRow[], error?: string}} SessionsMessage
 * @typedef {Snapshot|Patch|SessionsMessage} KernelMessage
 *
 * @typedef {{type: "send", text: string}
 *   | {type: "approve", approved: boolean, reason?: string|null}
 *   | {type: "load_session", session_id: string}
 *   | {type: "stop"} | {type: "retry"} | {type: "new_session"}
 *   | {type: "snapshot_request"} | {type: "sessions_request"}} PanelMessage
 */

export {};
