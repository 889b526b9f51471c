/**
 * Loaded by mocha before any suite (.mocharc.json `require`).
 *
 * Coverage (c8, `make test`) is read from this process alone. Mocha loads the sources through
 * tsx's CommonJS hook, while every child a suite starts (`node --import tsx` for the reliability
 * handlers, synth, the scripts) loads the same files through its ESM hook: the same URL with
 * different generated code. c8 merges V8's byte ranges by URL, so adding a child's report to this
 * one miscounts the file (one reliability child alone took user-migration/logic.ts from 100% of
 * lines to 76%), by amounts that differ from run to run: the same file read 65% in one run and 89%
 * in the next, and a run could fall under the thresholds with no test failing. The bench smoke's children
 * also wrote about 190 MB of reports that counted for nothing (their bundles lie outside the tree).
 * Node fixed this process's own report directory at start-up, so removing the variable here only
 * keeps it from the children.
 */
delete process.env.NODE_V8_COVERAGE;
