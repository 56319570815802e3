import { z } from 'zod';
import { policyConfigShape, retryConfigShape } from './policies-schema.js';

const httpUrl = z
  .string()
  .refine((value) => {
    try {
      const { protocol } = new URL(value);
      return protocol === 'http:' || protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

export const ServiceSchema = z
  .object({
    name: z.string().min(1),
    url: httpUrl,
    /** When absent, the service's models are discovered from its `/v1/models`. */
    models: z.array(z.string().min(1)).optional(),
    /** Sent as `Authorization: Bearer` to this service; the client's own header never is. */
    api_key: z.string().optional(),
    health_path: z.string().startsWith('/').default('/health'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8000),
    host: z.string().min(1).default('0.0.0.0'),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    request_timeout_s: z.number().positive().default(300),
    max_body_bytes: z.number().int().positive().default(16 * 1024 * 1024),
    shutdown_grace_s: z.number().nonnegative().default(30),
    health_check: z
      .object({
        interval_s: z.number().positive().default(30),
        timeout_s: z.number().positive().default(5),
        /** Consecutive request failures that eject a service until a probe passes again. */
        failure_threshold: z.number().int().positive().default(3),
      })
      .strict()
      .default({ interval_s: 30, timeout_s: 5, failure_threshold: 3 }),
    retry: z.object(retryConfigShape).strict().prefault({}),
    routing: z
      .object({
        policy: z.string().default('least-outstanding'),
      })
      .strict()
      .default({ policy: 'least-outstanding' }),
    services: z.array(ServiceSchema).default([]),
    ...policyConfigShape,
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.services.forEach((service, index) => {
      if (seen.has(service.name)) {
        ctx.addIssue({ code: 'custom', path: ['services', index, 'name'], message: `duplicate service name "${service.name}"` });
      }
      seen.add(service.name);
    });
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ServiceConfig = z.infer<typeof ServiceSchema>;
