/** The page's entry: reads its URL and renders the app. */
import { render } from "preact";
import { App } from "./app.tsx";
import { readPageRequest } from "./share-link.ts";

const root = document.getElementById("app");
if (root !== null) render(<App request={readPageRequest(window.location)} />, root);
