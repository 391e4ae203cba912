/**
 * The video list, and a form to add one: a title and a YouTube link or a direct video URL
 * (checked here first, then by the server, whose errors are shown next to the form).
 */
import { api, errorMessage } from "../lib/api.js";
import { FormStatus, field, h, mainArea, notice, pageHead, replace } from "../lib/dom.js";
import { icon } from "../lib/icons.js";
import { playableUrl, youtubeId } from "../lib/player.js";
import { startShell } from "../lib/shell.js";
import { toast } from "../lib/toast.js";

/** A video as the API lists it. */
export interface Video {
  id: number;
  title: string;
  url: string;
}

const main = mainArea();
const shell = startShell();

if (shell !== null) {
  const grid = h("ul", { id: "videos", class: "video-grid", "aria-label": "Videos" },
    h("li", { class: "empty" }, "Loading videos…"));
  const title = h("input", { id: "video-title", type: "text", required: true, maxlength: 200, autocomplete: "off", placeholder: "Sprint demo, week 12" });
  const url = h("input", {
    id: "video-url", type: "text", inputmode: "url", required: true, maxlength: 2000, autocomplete: "off",
    placeholder: "https://www.youtube.com/watch?v=… or https://…/clip.mp4",
  });
  const submit = h("button", { class: "button primary", type: "submit" }, "Add video");
  const status = new FormStatus();
  const form = h("form", { id: "add-video", class: "stack", novalidate: true },
    field("Title", title),
    field("Link", url, "A YouTube link, or a direct link to a video file (.mp4, .webm)."),
    status.element,
    submit);

  main.append(
    pageHead("Video annotations", "Videos", "Open a video to watch it with everyone's notes, shown as playback reaches them."),
    h("div", { class: "layout" },
      h("section", { "aria-label": "All videos" }, grid),
      h("aside", { class: "panel side" }, h("h2", { class: "panel-title" }, "Add a video"), form)));

  const card = (video: Video, fresh = false): HTMLLIElement => {
    const isYouTube = youtubeId(video.url) !== undefined;
    return h("li", { class: `video-card${fresh ? " fresh" : ""}`, dataset: { id: String(video.id) } },
      h("a", { href: `/videos/${video.id}`, class: "video-link" },
        h("div", { class: `thumb${isYouTube ? " thumb-youtube" : ""}`, "aria-hidden": "true" }, h("span", { class: "thumb-play" }, icon("play"))),
        h("div", { class: "video-info" },
          h("span", { class: "video-title" }, video.title),
          h("span", { class: `tag ${isYouTube ? "tag-youtube" : "tag-file"}` }, isYouTube ? "YouTube" : "Video file"))));
  };

  const load = async (): Promise<void> => {
    try {
      const { videos } = await api<{ videos: Video[] }>("GET", "/api/videos");
      replace(grid, videos.length === 0 ? h("li", { class: "empty" }, "No videos yet. Add the first one.") : videos.map((v) => card(v)));
    } catch (error) {
      replace(grid, h("li", null, notice("error", "Could not load the videos", errorMessage(error))));
    }
  };
  void load();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    const body = { title: title.value.trim(), url: url.value.trim() };
    if (body.title === "") return status.error("Give the video a title.");
    if (body.url === "") return status.error("Paste a YouTube link or a direct video URL.");
    if (youtubeId(body.url) === undefined && (!playableUrl(body.url) || /^https?:\/\/(www\.)?(youtube\.com|youtu\.be)\//i.test(body.url))) {
      return status.error("That is not a YouTube video link or a direct http(s) video URL.");
    }
    submit.disabled = true;
    try {
      const video = await api<Video>("POST", "/api/videos", body);
      grid.querySelector(".empty")?.remove();
      grid.prepend(card(video, true));
      form.reset();
      status.ok(`Added “${video.title}”.`);
      toast({ kind: "success", title: "Video added", body: video.title, duration: 4000 });
    } catch (error) {
      status.error(errorMessage(error));
    } finally {
      submit.disabled = false;
    }
  });
}
