// A notifier component of your own, in JavaScript (docs/EXTENDING.md): it exports
// `heartbeat:monitor/notifier@1.0.0` and posts every event as JSON to the URL in its
// configuration variable `js_notifier_url`. `npm ci && npm run build` makes notifier.wasm.
//
// Without a URL it throws: a thrown error traps the component, and the host records a failed
// delivery under the component's name instead (the way any bug in a notifier shows up).
import { get } from 'wasi:config/store@0.2.0-draft-2024-09-27';

// The name this notifier's deliveries carry in the delivery log.
const CHANNEL = 'js-notifier';

async function send(n) {
  const url = get('js_notifier_url');
  if (!url) {
    throw new Error('js_notifier_url is not set');
  }
  const body = JSON.stringify({
    eventId: n.eventId,
    event: n.event,
    service: { id: n.transition.serviceId, name: n.serviceName },
    message: n.message ?? null,
    reminder: n.reminder,
  });
  const started = Date.now();
  let status;
  let error;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'heartbeat-monitor-example-notifier-js/0.1',
      },
      body,
    });
    status = response.status;
    if (status < 200 || status >= 300) {
      error = `the receiver answered ${status}`;
    }
  } catch (e) {
    // The kind of failure only: the message may quote the URL, and the URL may hold a token.
    error = `request failed (${e.name})`;
  }
  const latencyMs = Date.now() - started;
  return {
    channel: CHANNEL,
    channelType: 'custom',
    ok: error === undefined,
    httpStatus: status,
    latencyMs,
    error,
    attempts: 1,
    tries: [{ httpStatus: status, latencyMs, error }],
  };
}

export const notifier = {
  async deliver(n) {
    return [await send(n)];
  },
  // `heartbeat-host notify-test js-notifier`: only when the name is ours.
  async deliverTo(channel, n) {
    return channel === CHANNEL ? [await send(n)] : [];
  },
};
