// Measures the CPU time per call of the official CyberSource Node SDK
// (npm package cybersource-rest-client) against a loopback server, for comparison with
// `paycreds bench`. Install the SDK outside this repository and point NODE_PATH at it:
//
//   mkdir -p /tmp/nodesdk && cd /tmp/nodesdk && npm install --ignore-scripts cybersource-rest-client
//   . /tmp/fixed.env   # written by: go run ./scripts/benchserver --mode fixed --env-file /tmp/fixed.env
//   NODE_PATH=/tmp/nodesdk/node_modules node scripts/nodesdk/cpu-per-call.js 2000
//
// It makes a number of v2 calls one after another with HTTP Signature and the JWE
// returned unopened, after 200 warm-up calls, and prints process.cpuUsage() (user and
// system) per call. The SDK sends to CYBERSOURCE_BASE_URL through its intermediateHost
// setting; the script refuses any base URL that is not loopback.

'use strict';

const cybersource = require('cybersource-rest-client');

const calls = Number(process.argv[2] || 2000);
const warmUp = 200;
const baseURL = process.env.CYBERSOURCE_BASE_URL || '';
if (!/^http:\/\/(127\.\d+\.\d+\.\d+|\[::1\]|localhost)(:\d+)?$/.test(baseURL)) {
  console.error(`CYBERSOURCE_BASE_URL ${JSON.stringify(baseURL)} is not a loopback http URL; source the env file of scripts/benchserver`);
  process.exit(2);
}

const configuration = {
  authenticationType: 'http_signature',
  runEnvironment: 'apitest.cybersource.com',
  intermediateHost: baseURL,
  merchantID: process.env.CYBERSOURCE_MERCHANT_ID,
  merchantKeyId: process.env.CYBERSOURCE_KEY_ID,
  merchantsecretKey: process.env.CYBERSOURCE_SECRET_KEY,
  logConfiguration: { enableLog: false },
};

const apiClient = new cybersource.ApiClient();
const api = new cybersource.NetworkTokensApi(configuration, apiClient);
const request = new cybersource.PostPaymentCredentialsRequest1();
request.paymentCredentialType = 'CRYPTOGRAM';

function call() {
  return new Promise((resolve, reject) => {
    api.postTokenPaymentCredentials('7030000000000011111', request, {}, (error, data, response) => {
      if (error) {
        reject(error);
      } else if (response.status !== 201) {
        reject(new Error(`status ${response.status}, want 201`));
      } else {
        resolve(data);
      }
    });
  });
}

async function main() {
  for (let i = 0; i < warmUp; i++) {
    await call();
  }
  const start = process.cpuUsage();
  const wallStart = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    await call();
  }
  const used = process.cpuUsage(start);
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  const cpuMicroseconds = used.user + used.system;
  const version = require('cybersource-rest-client/package.json').version;
  console.log(`cybersource-rest-client ${version}, node ${process.version}: ${calls} calls in ${wallSeconds.toFixed(2)}s, ` +
    `CPU ${(cpuMicroseconds / calls).toFixed(1)}µs per call (user ${(used.user / calls).toFixed(1)}µs, system ${(used.system / calls).toFixed(1)}µs)`);
}

main().catch((error) => {
  console.error('call failed:', error && (error.message || error));
  process.exit(1);
});
