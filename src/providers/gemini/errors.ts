import { openAiError } from '../chat-translation.js';

/** Google's canonical error statuses → OpenAI error types. */
const TYPE_BY_STATUS: Readonly<Record<string, string>> = {
  INVALID_ARGUMENT: 'invalid_request_error',
  FAILED_PRECONDITION: 'invalid_request_error',
  OUT_OF_RANGE: 'invalid_request_error',
  UNAUTHENTICATED: 'authentication_error',
  PERMISSION_DENIED: 'permission_error',
  NOT_FOUND: 'not_found_error',
  RESOURCE_EXHAUSTED: 'rate_limit_error',
  INTERNAL: 'api_error',
  UNAVAILABLE: 'service_unavailable',
  DEADLINE_EXCEEDED: 'timeout_error',
};

export interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ reason?: string }>;
}

/** A Google error body (`{"error":{code,message,status}}`, or anything else) as an OpenAI error with the HTTP status. */
export function fromGoogleError(status: number, body: string): { status: number; body: string } {
  let error: GoogleError | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    // the streaming endpoint without alt=sse wraps errors in an array
    error = ((Array.isArray(parsed) ? parsed[0] : parsed) as { error?: GoogleError } | undefined)?.error;
  } catch {
    // not JSON: reported with the raw text below
  }
  const message = `Gemini: ${error?.message ?? (body.slice(0, 500) || `answered ${status}`)}`;
  // Google answers a bad key with 400 INVALID_ARGUMENT; OpenAI clients expect 401 (the SDKs raise AuthenticationError on it)
  if (error?.details?.some((detail) => detail?.reason === 'API_KEY_INVALID')) return openAiError(401, message, 'authentication_error', 'invalid_api_key');
  return openAiError(status, message, googleErrorType(error, status), error?.status?.toLowerCase() ?? null);
}

export function googleErrorType(error: GoogleError | undefined, status: number): string {
  return TYPE_BY_STATUS[error?.status ?? ''] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}
