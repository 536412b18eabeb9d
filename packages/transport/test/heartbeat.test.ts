import { afterEach, describe, expect, it, vi } from 'vitest';
import { Heartbeat } from '../src/index.js';

/** A heartbeat (1 s idle, 0.5 s timeout) that records what it does. */
function recordingHeartbeat(): { events: string[]; heartbeat: Heartbeat } {
  const events: string[] = [];
  const heartbeat = new Heartbeat({
    intervalMs: 1000,
    timeoutMs: 500,
    sendPing: () => events.push('ping'),
    onTimeout: () => events.push('timeout'),
  });
  return { events, heartbeat };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Heartbeat', () => {
  it('pings after idle time and times out a silent peer', () => {
    vi.useFakeTimers();
    const { events, heartbeat } = recordingHeartbeat();
    heartbeat.start();
    vi.advanceTimersByTime(999);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual(['ping']);
    vi.advanceTimersByTime(500);
    expect(events).toEqual(['ping', 'timeout']);
    expect(heartbeat.running).toBe(false);
  });

  it('treats any traffic as proof of life', () => {
    vi.useFakeTimers();
    const { events, heartbeat } = recordingHeartbeat();
    heartbeat.start();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(900);
      heartbeat.alive();
    }
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1000);
    heartbeat.alive();
    vi.advanceTimersByTime(1400);
    expect(events).toEqual(['ping', 'ping']);
    heartbeat.stop();
  });
});
