/** The value of a JSON text, or undefined when it is not JSON (an upstream's answers and events are read, never trusted). */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
