import { orgchatVitestConfig } from "../../vitest.shared.ts";

export default orgchatVitestConfig();
