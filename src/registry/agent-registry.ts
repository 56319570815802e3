import type { Logger } from 'pino';
import type { Fleet } from '../fleet/fleet.js';
import { OPENAI_COMPATIBLE_TARGET } from '../providers/by-name.js';
import { ApiError } from '../server/errors.js';
import type { AgentDirectory, Cooldowns } from '../state/shared-state.js';
import type { AgentRecord, AgentRepository } from '../store/agents.js';

export interface AgentRegistration {
  name: string;
  endpoint: string;
  models: string[];
}

export interface AgentOptions {
  /** Silent this long: unhealthy (still listed) until its next heartbeat. */
  heartbeatTimeoutS: number;
  /** Silent this long: forgotten, as if retired. */
  forgetAfterS: number;
  /** Registrations of new names past this many (with Redis: on all instances together) are refused: each costs memory and routing work. */
  maxAgents: number;
}

/**
 * Agents announce themselves with /register and stay routable while their heartbeats arrive.
 * Registrations are kept in SQLite so they reappear after a restart; one that has been silent
 * longer than the timeout is marked unhealthy (still listed), and any heartbeat revives it. One
 * silent for much longer, or retired explicitly, is forgotten: a decommissioned agent would
 * otherwise be listed, and keep /health degraded, forever.
 * With a shared directory (Redis), registrations, heartbeats and retirements received by any
 * instance are applied by all, so every instance routes, expires and forgets an agent alike.
 */
export class AgentRegistry {
  private readonly known = new Map<string, AgentRecord>();
  private directory: AgentDirectory | undefined;
  private cooldowns: Cooldowns | undefined;
  private timer: NodeJS.Timeout | undefined;
  /**
   * When this instance started listening for heartbeats: silence is counted from then at the
   * earliest, so the router's own downtime does not count against its agents (one stopped longer
   * than forget_after_s would otherwise forget them all at start-up, and agents that only send
   * heartbeats, as the replaced router's do, would never come back).
   */
  private listeningSinceMs = 0;

  constructor(
    private readonly fleet: Fleet,
    private readonly repository: AgentRepository,
    private readonly options: AgentOptions,
    private readonly log: Logger,
  ) {}

  /** Brings back the stored registrations, healthy only if their last heartbeat is recent enough; a heartbeat revives the others. */
  restore(now = Date.now()): void {
    this.listeningSinceMs = now;
    for (const record of this.repository.list()) this.apply(record, now);
    this.expire(now);
  }

  /** Shares registrations and heartbeats with the other instances from now on; a forgotten agent's cooldown state goes with it. */
  share({ agents: directory, cooldowns }: { agents: AgentDirectory; cooldowns: Cooldowns }): void {
    this.directory = directory;
    this.cooldowns = cooldowns;
    directory.subscribe({ registered: (agent) => this.adopt(agent), beat: (name, atMs) => this.beat(name, atMs), forgotten: (name) => this.forget(name) });
  }

  async register(registration: AgentRegistration, now = Date.now()): Promise<void> {
    const existing = this.fleet.get(registration.name);
    if (existing && existing.kind !== 'agent') {
      throw new ApiError(409, `The name '${registration.name}' belongs to a configured ${existing.kind}`, 'invalid_request_error', 'name_taken', 'name');
    }
    const record = { ...registration, lastHeartbeatMs: now };
    // Shared, the bound is the fleet's: the directory counts and registers in one step. Alone (or Redis away), this instance counts.
    const shared = await this.directory?.register(record, this.options.maxAgents);
    if (shared === false || (shared === undefined && !this.known.has(registration.name) && this.known.size >= this.options.maxAgents)) {
      const where = shared === false ? ' across the instances sharing Redis' : '';
      throw new ApiError(403, `${this.options.maxAgents} agents are registered already${where} (agents.max_agents): retire one first`, 'permission_error', 'too_many_agents');
    }
    this.repository.upsert(record);
    this.apply(record, now);
    this.log.info({ agent: registration.name, endpoint: registration.endpoint, models: registration.models }, 'agent registered');
  }

  async heartbeat(name: string, now = Date.now()): Promise<void> {
    // Registered through another instance while this one could not hear of it (Redis was away).
    if (!this.known.has(name)) {
      const shared = await this.directory?.find(name);
      if (shared) this.adopt(shared, now);
    }
    const record = this.known.get(name);
    // A heartbeat carries only the name: the agent itself must send its endpoint and models again, and the code tells it to.
    if (!record) {
      throw new ApiError(
        404,
        `No agent named '${name}' is registered (it never was, was retired, or was forgotten after agents.forget_after_s of silence): register it again with POST /register`,
        'invalid_request_error',
        'agent_not_registered',
        'name',
      );
    }
    this.beat(name, now, now);
    await this.directory?.heartbeat({ ...record, lastHeartbeatMs: now });
  }

  /** Retires an agent for good (until it registers again): it is no longer routed, listed or stored, on any instance. */
  async retire(name: string, now = Date.now()): Promise<void> {
    // Registered through another instance while this one could not hear of it (Redis was away).
    if (!this.known.has(name) && !(await this.directory?.find(name))) {
      throw new ApiError(404, `No agent named '${name}' is registered`, 'invalid_request_error', 'agent_not_found', 'name');
    }
    this.forget(name);
    this.log.info({ agent: name }, 'agent retired');
    await this.directory?.forget(name, now);
  }

  /** Checks for expired agents a few times per timeout (at least every second). */
  start(): void {
    this.timer = setInterval(() => this.expire(), Math.min(1000, (this.options.heartbeatTimeoutS * 1000) / 3));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  expire(now = Date.now()): void {
    for (const [name, { lastHeartbeatMs }] of this.known) {
      if (now - Math.max(lastHeartbeatMs, this.listeningSinceMs) > this.options.forgetAfterS * 1000) {
        this.log.warn({ agent: name, silentS: Math.round((now - lastHeartbeatMs) / 1000) }, 'agent forgotten: silent for longer than agents.forget_after_s');
        this.forget(name);
        // Only if no instance has heard from it since: a heartbeat elsewhere keeps it.
        void this.directory?.forget(name, lastHeartbeatMs);
        continue;
      }
      const backend = this.fleet.get(name);
      if (!backend?.healthy || this.alive(lastHeartbeatMs, now)) continue;
      this.log.warn({ agent: name, silentS: Math.round((now - lastHeartbeatMs) / 1000) }, 'agent missed its heartbeats: not routed until it sends one');
      this.fleet.setHealth(backend, false);
    }
  }

  /** A registration announced by an instance (this one's own come back too: then only the time counts). */
  private adopt(agent: AgentRecord, now = Date.now()): void {
    const existing = this.fleet.get(agent.name);
    if (existing && existing.kind !== 'agent') {
      this.log.warn({ agent: agent.name }, `ignoring a shared agent registration: the name belongs to a configured ${existing.kind}`);
      return;
    }
    const known = this.known.get(agent.name);
    if (known && known.endpoint === agent.endpoint && known.models.join('\n') === agent.models.join('\n')) {
      this.beat(agent.name, agent.lastHeartbeatMs, now);
      return;
    }
    this.repository.upsert(agent);
    this.apply(agent, now);
  }

  /** Moves the agent's heartbeat time forward (never back) and revives it if that makes it alive. */
  private beat(name: string, atMs: number, now = Date.now()): void {
    const record = this.known.get(name);
    const backend = this.fleet.get(name);
    if (!record || !backend) return;
    if (atMs > record.lastHeartbeatMs) {
      record.lastHeartbeatMs = atMs;
      this.repository.heartbeat(name, atMs);
    }
    if (backend.healthy || !this.alive(record.lastHeartbeatMs, now)) return;
    this.log.info({ agent: name }, 'agent back');
    this.fleet.setHealth(backend, true);
  }

  private alive(lastHeartbeatMs: number, now: number): boolean {
    return now - lastHeartbeatMs <= this.options.heartbeatTimeoutS * 1000;
  }

  /** Drops the agent from this instance: routing, listing, its SQLite copy and its cooldown state. */
  private forget(name: string): void {
    this.known.delete(name);
    this.cooldowns?.forget(name);
    this.repository.remove(name);
    if (this.fleet.get(name)?.kind === 'agent') this.fleet.remove(name);
  }

  private apply(record: AgentRecord, now: number): void {
    this.fleet.remove(record.name);
    const backend = this.fleet.add({ name: record.name, url: record.endpoint, kind: 'agent', models: record.models, adapter: OPENAI_COMPATIBLE_TARGET });
    this.known.set(record.name, { ...record });
    this.fleet.setHealth(backend, this.alive(record.lastHeartbeatMs, now));
  }
}
