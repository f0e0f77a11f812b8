/** What a whole-stack check reports: the check, the resource it is about, and what is wrong. */
export interface Finding {
  check: string;
  resource: string;
  message: string;
}
