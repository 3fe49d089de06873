// Apply kernel messages (a JSON list on stdin) the way the panel does and print the
// entries it ends with: tests/notebook/test_panel_conformance.py compares them with Python's.
import { Entries } from "../src/model/entries.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const runs = JSON.parse(input);
const out = runs.map((messages) => {
  const entries = new Entries();
  let seq = 0;
  for (const msg of messages) {
    if (msg.type === "snapshot") {
      entries.reset(msg.entries);
      seq = msg.seq;
    } else if (msg.type === "patch" && msg.seq === seq + 1) {
      entries.apply(msg.ops);
      seq = msg.seq;
    } else {
      throw new Error(`message out of order: ${msg.seq} after ${seq}`);
    }
  }
  return entries.toJSON();
});
process.stdout.write(JSON.stringify(out));
