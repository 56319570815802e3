import type { Logger } from 'pino';
import type { Fleet } from '../fleet/fleet.js';
import { ApiError } from '../server/errors.js';
import type { AgentRecord, AgentRepository } from '../store/agents.js';

export interface AgentRegistration {
  name: string;
  endpoint: string;
  models: string[];
}

/**
 * Agents announce themselves with /register and stay routable while their heartbeats arrive.
 * Registrations are kept in SQLite so they reappear after a restart; one that has been silent
 * longer than the timeout is marked unhealthy (still listed), and any heartbeat revives it.
 */
export class AgentRegistry {
  private readonly lastBeatMs = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fleet: Fleet,
    private readonly repository: AgentRepository,
    private readonly timeoutS: number,
    private readonly log: Logger,
  ) {}

  /** Brings back the stored registrations, healthy only if their last heartbeat is recent enough. */
  restore(now = Date.now()): void {
    for (const record of this.repository.list()) this.apply(record, now);
  }

  register(registration: AgentRegistration, now = Date.now()): void {
    const existing = this.fleet.get(registration.name);
    if (existing && existing.kind !== 'agent') {
      throw new ApiError(409, `The name '${registration.name}' belongs to a configured ${existing.kind}`, 'invalid_request_error', 'name_taken', 'name');
    }
    const record = { ...registration, lastHeartbeatMs: now };
    this.repository.upsert(record);
    this.apply(record, now);
    this.log.info({ agent: registration.name, endpoint: registration.endpoint, models: registration.models }, 'agent registered');
  }

  heartbeat(name: string, now = Date.now()): void {
    const backend = this.fleet.get(name);
    if (!backend || backend.kind !== 'agent') {
      throw new ApiError(404, `No agent named '${name}' is registered`, 'invalid_request_error', 'agent_not_found', 'name');
    }
    this.lastBeatMs.set(name, now);
    this.repository.heartbeat(name, now);
    if (!backend.healthy) this.log.info({ agent: name }, 'agent back');
    this.fleet.setHealth(backend, true);
  }

  /** Checks for expired agents a few times per timeout (at least every second). */
  start(): void {
    this.timer = setInterval(() => this.expire(), Math.min(1000, (this.timeoutS * 1000) / 3));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  expire(now = Date.now()): void {
    for (const [name, last] of this.lastBeatMs) {
      const backend = this.fleet.get(name);
      if (!backend?.healthy || now - last <= this.timeoutS * 1000) continue;
      this.log.warn({ agent: name, silentS: Math.round((now - last) / 1000) }, 'agent missed its heartbeats: not routed until it sends one');
      this.fleet.setHealth(backend, false);
    }
  }

  private apply(record: AgentRecord, now: number): void {
    this.fleet.remove(record.name);
    const backend = this.fleet.add({ name: record.name, url: record.endpoint, kind: 'agent', models: record.models });
    this.lastBeatMs.set(record.name, record.lastHeartbeatMs);
    this.fleet.setHealth(backend, now - record.lastHeartbeatMs <= this.timeoutS * 1000);
  }
}
