/**
 * How an environment variable's text becomes a config value. Text that is not a value of the kind
 * is kept as it is, so that validation refuses it naming the variable, rather than reading " " as
 * the number 0, "0x1F" as 31 or "maybe" as false.
 */

const DECIMAL = /^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i;

export const envNumber = (value: string): number | string => (DECIMAL.test(value) ? Number(value) : value);

export const envFlag = (value: string): boolean | string => (/^\s*(1|true|yes|on)\s*$/i.test(value) ? true : /^\s*(0|false|no|off)\s*$/i.test(value) ? false : value);

/** Comma-separated items, blanks around them dropped. Text with no item at all (` , `) is kept: a blank setting is refused, as a blank number is. */
export const envList = (value: string): string[] | string => {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  return items.length > 0 ? items : value;
};
