import { expect, it } from "vitest";
import * as upkeep from "../src/connection-upkeep.js";
import * as root from "../src/index.js";
import * as light from "../src/light-entry.js";
import * as relay from "../src/relay.js";

it("exports exactly the documented public surface", () => {
  // A change here is a change to what consumers can import: add a changeset for it.
  expect(Object.keys(root).sort()).toMatchSnapshot("@orgchat/transport-waku");
  expect(Object.keys(relay).sort()).toMatchSnapshot("@orgchat/transport-waku/relay");
  expect(Object.keys(upkeep).sort()).toMatchSnapshot("@orgchat/transport-waku/upkeep");
  expect(Object.keys(light).sort()).toMatchSnapshot("@orgchat/transport-waku/light");
});
