'use strict';
/**
 * What Lambda's Node.js runtime has loaded before it loads a handler, preloaded (`--require`) into every
 * process the bench times, bare node included, so that a figure "above bare node" is what the handler
 * adds inside that runtime rather than what the runtime itself had already paid for.
 *
 * The managed nodejs runtimes run the open-source runtime interface client
 * (aws/aws-lambda-nodejs-runtime-interface-client). Its entry point builds the client for the Runtime
 * API before it loads the handler: that loads `node:http` and makes a kept-alive Agent with one socket,
 * and loads `node:net` for response streaming and `node:util` for its log lines. A handler that needs
 * those modules, or the streams and events under them, finds them loaded. The client's native addon
 * and its own code are left out: no handler shares them.
 *
 * The machine calibration runs without it (bench/lib/cold.ts), since its reference figures were
 * measured in a bare node.
 */
require('node:util');
require('node:net');
const http = require('node:http');
new http.Agent({ keepAlive: true, maxSockets: 1 });
