import { badRequest } from './errors.js';
import { ENDPOINTS, type Endpoint } from '../gateway/inference-request.js';

/** Checks what the router itself needs; everything else is the backend's to judge. */
export function validateInference(endpoint: Endpoint, body: unknown): { model: string; stream: boolean } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('The request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;
  if (fields.model === undefined) throw badRequest("Missing required parameter: 'model'", 'model', 'missing_required_parameter');
  if (typeof fields.model !== 'string' || fields.model.length === 0) {
    throw badRequest("Invalid type for 'model': expected a non-empty string", 'model', 'invalid_type');
  }
  const { required } = ENDPOINTS[endpoint];
  if (fields[required] === undefined || fields[required] === null) {
    throw badRequest(`Missing required parameter: '${required}'`, required, 'missing_required_parameter');
  }
  if (endpoint === 'chat' && !Array.isArray(fields.messages)) {
    throw badRequest("Invalid type for 'messages': expected an array", 'messages', 'invalid_type');
  }
  if (fields.stream !== undefined && fields.stream !== null && typeof fields.stream !== 'boolean') {
    throw badRequest("Invalid type for 'stream': expected a boolean", 'stream', 'invalid_type');
  }
  return { model: fields.model, stream: fields.stream === true && endpoint !== 'embeddings' };
}
