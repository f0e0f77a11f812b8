/**
 * This machine's egress address, which a private cluster with `deployerAccess: deployerAddress`
 * admits while `npm run deploy` deploys into it.
 *
 * AWS's own address echo service answers a GET with the caller's public IPv4 address and a
 * newline; the EC2 user guide uses it to find the address to admit in a security group rule
 * ("To get the public IPv4 address of your local computer ... https://checkip.amazonaws.com",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/authorizing-access-to-an-instance.html).
 * Behind a proxy or a NAT pool with several addresses, pass `--deployer-cidr` instead.
 */
import { StepError } from "./journey";

export const CHECKIP_URL = "https://checkip.amazonaws.com";

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The caller's address as a /32, from `url`; a StepError of the serving step when it cannot. */
export async function detectDeployerCidr(url = CHECKIP_URL, timeoutMs = 10_000): Promise<string> {
  const fail = (why: string) =>
    new StepError(
      "serving",
      "the deployer's address",
      `could not read this machine's public address from ${url} (${why}); pass --deployer-cidr <a.b.c.d/32>`,
    );
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw fail(`HTTP ${response.status}`);
    text = (await response.text()).trim();
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw fail(e instanceof Error ? e.message : String(e));
  }
  const m = IPV4.exec(text);
  if (!m || m.slice(1).some((o) => Number(o) > 255))
    throw fail(`it answered ${JSON.stringify(text.slice(0, 60))}, not an IPv4 address`);
  return `${text}/32`;
}
