import { expect, it } from "vitest";
import * as wire from "../src/index.js";

it("exports exactly the documented public surface", () => {
  // A change here is a change to what consumers can import: add a changeset for it.
  expect(Object.keys(wire).sort()).toMatchSnapshot();
});
