# Times R `surveillance` detectors per evaluated point, for bench/r-peer.bench.ts (Yifang's
# detectors beside R's on the same series, in one run).
#
#   Rscript scripts/r-refs/peer-timing.R <jobs.json> <out.json>
#
# <jobs.json>: { "minSeconds": number, "blocks": integer,
#                "jobs": [ { "id", "method" ("farringtonFlexible" | "farrington" | "earsC" | "cusum"),
#                            "observed": [...], "freq", "start": [year, period],
#                            "control": { "range": [...], ... } } ] }
# Each job: one warm-up call, then `blocks` timed blocks of `reps` identical calls, `reps` chosen
# so that one block lasts at least `minSeconds`. The figure is the fastest block's elapsed time
# (proc.time, inside R, so R's start-up and package loading are not counted) divided by reps and
# by the number of evaluated points; the CPU time (user + system) of that block is given too.
# <out.json>: { "R", "surveillance", "results": [ { "id", "points", "reps", "msPerCall",
#               "msPerPoint", "cpuMsPerPoint", "alarm": [0/1/null aligned with range] } ] }

suppressPackageStartupMessages({
  library(surveillance)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript peer-timing.R <jobs.json> <out.json>")
input <- fromJSON(args[1], simplifyVector = TRUE, simplifyDataFrame = FALSE)

makeSts <- function(job) {
  new("sts", observed = matrix(as.numeric(job$observed), ncol = 1), freq = job$freq,
      start = as.numeric(job$start))
}

# The control as R wants it: whole-number vectors (range) as integers, the rest as given.
makeControl <- function(control) {
  control$range <- as.integer(control$range)
  control
}

callFor <- function(job) {
  x <- makeSts(job)
  control <- makeControl(job$control)
  switch(job$method,
         farringtonFlexible = function() farringtonFlexible(x, control = control),
         farrington = function() farrington(x, control = control),
         earsC = function() earsC(x, control = control),
         cusum = function() cusum(x, control = control),
         stop("unknown method ", job$method))
}

timeBlock <- function(f, reps) {
  t0 <- proc.time()
  for (i in seq_len(reps)) res <- f()
  dt <- proc.time() - t0
  c(elapsed = unname(dt[["elapsed"]]), cpu = unname(dt[["user.self"]] + dt[["sys.self"]]))
}

results <- lapply(input$jobs, function(job) {
  f <- callFor(job)
  res <- f() # warm-up (and the alarms compared with Yifang's)
  points <- length(job$control$range)
  # Calibrate: double reps until a block lasts minSeconds.
  reps <- 1L
  repeat {
    t <- timeBlock(f, reps)
    if (t[["elapsed"]] >= input$minSeconds || reps >= 1e6) break
    reps <- reps * max(2L, as.integer(ceiling(input$minSeconds / max(t[["elapsed"]], 1e-3))))
  }
  best <- t
  if (input$blocks > 1) {
    for (k in 2:input$blocks) {
      t <- timeBlock(f, reps)
      if (t[["elapsed"]] < best[["elapsed"]]) best <- t
    }
  }
  alarm <- as.integer(alarms(res)[, 1])
  list(id = job$id, points = points, reps = reps,
       msPerCall = 1000 * best[["elapsed"]] / reps,
       msPerPoint = 1000 * best[["elapsed"]] / reps / points,
       cpuMsPerPoint = 1000 * best[["cpu"]] / reps / points,
       alarm = alarm)
})

out <- list(R = paste(R.version$major, R.version$minor, sep = "."),
            surveillance = as.character(packageVersion("surveillance")),
            results = results)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), args[2])
