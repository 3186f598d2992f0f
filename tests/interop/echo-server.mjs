#!/usr/bin/env node
// Echo server on an independent QUIC stack (quiche + BoringSSL) for interop tests.
// Prints {"listening": port} on stdout once bound; echoes every bidi stream and
// finishes its write side when the peer finishes. Exits on SIGTERM/SIGINT or
// when stdin closes, so a harness that dies cannot leave it behind.
import { readFile } from 'node:fs/promises';
import { QUICServer, events } from '@matrixai/quic';
import { createLogger, createServerCrypto, emitJson, fail, parseArgs, parsePort } from './common.mjs';

const args = parseArgs(process.argv.slice(2), {
  host: { default: '127.0.0.1' },
  port: { default: '0' },
  cert: { required: true },
  key: { required: true },
  alpn: { default: 'connet-interop' },
  ca: {},
  'verify-peer': { flag: true },
  keylog: {},
  verbose: { flag: true },
});

if (args['verify-peer'] && args.ca === undefined) fail('--verify-peer needs --ca to check client certificates against');

const logger = createLogger('echo-server', args.verbose);
const server = new QUICServer({
  crypto: await createServerCrypto(),
  config: {
    cert: await readFile(args.cert, 'utf8'),
    key: await readFile(args.key, 'utf8'),
    ca: args.ca === undefined ? undefined : await readFile(args.ca, 'utf8'),
    verifyPeer: args['verify-peer'] === true,
    applicationProtos: args.alpn.split(','),
    logKeys: args.keylog,
  },
  logger,
});

let connections = 0;
server.addEventListener(events.EventQUICServerConnection.name, (evt) => {
  const connection = evt.detail;
  const id = ++connections;
  logger.info(`connection ${id} from ${connection.remoteHost}:${connection.remotePort}`);
  connection.addEventListener(events.EventQUICConnectionStream.name, (streamEvt) => {
    const stream = streamEvt.detail;
    // pipeTo closes the writable (sends FIN) when the readable ends.
    stream.readable.pipeTo(stream.writable).catch((e) => {
      process.stderr.write(`connection ${id} stream ${stream.streamId}: echo failed: ${e?.message ?? e}\n`);
    });
  });
  connection.addEventListener(events.EventQUICConnectionError.name, (errEvt) => {
    process.stderr.write(`connection ${id} closed: ${errEvt.detail?.message ?? errEvt.detail}\n`);
  });
});

try {
  await server.start({ host: args.host, port: parsePort(args.port, 'port') });
} catch (e) {
  fail(`cannot start server: ${e?.message ?? e}`);
}
emitJson({ listening: server.port });

let stopping = false;
async function stop(why) {
  if (stopping) return;
  stopping = true;
  logger.info(`stopping (${why})`);
  try {
    await server.stop({ force: true });
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.stdin.on('end', () => stop('stdin closed'));
process.stdin.on('error', () => stop('stdin error'));
process.stdin.resume();
