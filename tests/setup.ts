/**
 * Loaded by mocha before any suite (.mocharc.json `require`).
 *
 * Coverage (c8, `make test`) is read from this process alone, and this process loads every source
 * one way. Both matter because c8 merges V8's byte ranges by URL: two scripts with the same URL and
 * different generated code miscount the file, by amounts that differ from run to run (the same file
 * read 65% in one run and 89% in the next, and a run could fall under the thresholds with no test
 * failing).
 * - One way: on Node 22 mocha `require()`s the suites, which tsx compiles to CommonJS, while a
 *   handler test's `import()` and every child (`node --import tsx`) get tsx's ES-module output.
 *   .mocharc.json turns off `require(esm)` (`no-experimental-require-module`), so mocha imports the
 *   suites and all of them share one module graph.
 * - This process alone: children would add nothing but noise. The bench smoke's children run bundles
 *   outside the tree (about 190 MB of reports that counted for nothing), and a child a test kills
 *   writes no report. Node fixed this process's own report directory at start-up, so removing the
 *   variable here only keeps it from the children.
 */
delete process.env.NODE_V8_COVERAGE;
