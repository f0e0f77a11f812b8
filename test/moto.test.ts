import * as assert from "assert";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { MOTO_ACCOUNT, MotoServer, motoClientConfig, startMoto } from "./moto";

describe("moto server (test double for AWS)", function () {
  let moto: MotoServer;
  before(async function () {
    moto = await startMoto(this);
  });
  after(async () => moto?.stop());

  it("answers STS GetCallerIdentity with moto's account on 127.0.0.1", async () => {
    assert.match(moto.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const sts = new STSClient(motoClientConfig(moto.url));
    const who = await sts.send(new GetCallerIdentityCommand({}));
    assert.strictEqual(who.Account, MOTO_ACCOUNT);
  });
});
