# Reference outputs of R `surveillance` farrington() and farringtonFlexible() on DATED weekly
# series (sts objects with epochAsDate = TRUE), where R chooses the reference weeks by calendar
# date (same date b years back, snapped to the nearest same weekday) rather than by index.
#
# Run from the repository root:
#   Rscript scripts/r-refs/dated-farrington.R
# Writes src/surveillance/detectors/fixtures/dated/series-<name>.json (the series) and
# <name>__<run>.json (one R call each: control, range, alarm, upperbound, extras).

suppressPackageStartupMessages({
  library(surveillance)
  library(jsonlite)
})

outDir <- file.path("src", "surveillance", "detectors", "fixtures", "dated")
dir.create(outDir, recursive = TRUE, showWarnings = FALSE)
unlink(list.files(outDir, pattern = "\\.json$", full.names = TRUE))

# Numbers in full (17 significant digits, round-trip exact); NA as null.
num <- function(x) {
  structure(paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ","), "]"), class = "json")
}

writeJson <- function(x, file) {
  txt <- toJSON(x, auto_unbox = TRUE, json_verbatim = TRUE, digits = NA, na = "null", null = "null")
  writeLines(txt, file.path(outDir, file))
}

# ---------------------------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------------------------

makeSts <- function(observed, dates) {
  dates <- as.Date(dates)
  new("sts", observed = matrix(as.numeric(observed), ncol = 1), epoch = as.numeric(dates),
      epochAsDate = TRUE, freq = 52,
      start = c(as.numeric(format(dates[1], "%G")), as.numeric(format(dates[1], "%V"))))
}

series <- list()

# 1. salmonella.agona (312 weeks) dated from Monday 1990-01-01: ISO year 1992 has 53 weeks and
#    1992 is a leap year.
data(salmonella.agona)
series$agona <- list(
  description = "salmonella.agona counts, dated weekly from Monday 1990-01-01 (ISO 1992 has 53 weeks)",
  observed = as.numeric(salmonella.agona$observed),
  dates = seq(as.Date("1990-01-01"), by = "1 week", length.out = length(salmonella.agona$observed)))

# 2. salmAllOnset: the package's own dated weekly sts (Mondays, 2001-01-01 .. 2015-11-23).
data(salmAllOnset)
series$salmAllOnset <- list(
  description = "salmAllOnset (Salmonella, Germany, by onset), the package's dated weekly sts",
  observed = as.numeric(observed(salmAllOnset)[, 1]),
  dates = as.Date(epoch(salmAllOnset), origin = "1970-01-01"))

# 3. Simulated, Mondays from ISO 2014-W01 (2013-12-30) to 2021-W52: 2015 and 2020 have 53 ISO
#    weeks, 2016 and 2020 are leap years (2016-02-29 is a Monday in the series).
simCounts <- function(n, seed, level, outbreaks) {
  set.seed(seed)
  t <- seq_len(n)
  mu <- exp(level + 0.6 * sin(2 * pi * t / 52.1775) + 0.3 * cos(2 * pi * t / 52.1775) + 0.0015 * t)
  y <- rnbinom(n, mu = mu, size = 4)
  for (o in outbreaks) y[o + 0:3] <- y[o + 0:3] + c(4, 9, 6, 2) * round(exp(level))
  y
}
d3 <- seq(as.Date("2013-12-30"), as.Date("2021-12-27"), by = "1 week")
series$sim53 <- list(
  description = "simulated counts, Mondays ISO 2014-W01 .. 2021-W52 (53-week years 2015 and 2020, leap years 2016 and 2020)",
  observed = simCounts(length(d3), 18, 1.6, c(120, 300, 340, 390)),
  dates = d3)

# 4. Simulated, Saturdays 2012-01-07 .. 2021-12-25: 2020-02-29 is a Saturday in the evaluated
#    range, so the date one year back rolls over to 1 March (R's seq by "-1 year").
d4 <- seq(as.Date("2012-01-07"), as.Date("2021-12-25"), by = "1 week")
series$sat29 <- list(
  description = "simulated counts, Saturdays 2012-01-07 .. 2021-12-25 (2020-02-29 is a Saturday)",
  observed = simCounts(length(d4), 29, 2.3, c(200, 430, 470, 505)),
  dates = d4)

for (nm in names(series)) {
  s <- series[[nm]]
  writeJson(list(name = nm, description = s$description, freq = 52,
                 start = c(as.numeric(format(s$dates[1], "%G")), as.numeric(format(s$dates[1], "%V"))),
                 dates = format(s$dates, "%Y-%m-%d"), observed = s$observed),
            paste0("series-", nm, ".json"))
}

# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------

deparseControl <- function(control) {
  paste(deparse(control, width.cutoff = 500L), collapse = "")
}

lastWeeks <- function(nm, weeks) {
  n <- length(series[[nm]]$observed)
  (n - weeks + 1):n
}

runClassic <- function(nm, label, control) {
  s <- series[[nm]]
  x <- makeSts(s$observed, s$dates)
  res <- algo.farrington(sts2disProg(x), control = control)
  writeJson(list(series = nm, method = "farrington", label = label,
                 params = paste0("farrington(sts, control = ", deparseControl(control), ")"),
                 control = control,
                 alarm = as.integer(res$alarm), upperbound = num(res$upperbound),
                 extra = list(trend = as.integer(res$trend))),
            paste0(nm, "__farrington_", label, ".json"))
}

runFlexible <- function(nm, label, control) {
  s <- series[[nm]]
  x <- makeSts(s$observed, s$dates)
  res <- farringtonFlexible(x, control = control)
  ctl <- res@control
  writeJson(list(series = nm, method = "farringtonFlexible", label = label,
                 params = paste0("farringtonFlexible(sts, control = ", deparseControl(control), ")"),
                 control = control,
                 alarm = as.integer(alarms(res)[, 1]), upperbound = num(upperbound(res)[, 1]),
                 extra = list(expected = num(ctl$expected[, 1]), score = num(ctl$score[, 1]),
                              trend = as.integer(ctl$trend[, 1]))),
            paste0(nm, "__farringtonFlexible_", label, ".json"))
}

noufaily <- function(range, b = 5, w = 3, noPeriods = 10) {
  list(range = range, b = b, w = w, noPeriods = noPeriods, weightsThreshold = 2.58,
       pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")
}

# agona: 52 weeks with b = 4 (the reported case) and the last 48 weeks with b = 5.
ra52 <- lastWeeks("agona", 52)
ra48 <- lastWeeks("agona", 48)
runClassic("agona", "b4w3", list(range = ra52, b = 4, w = 3))
runClassic("agona", "b4w3_l0_50", list(range = ra52, b = 4, w = 3, limit54 = c(0, 50)))
runClassic("agona", "b5w3", list(range = ra48, b = 5, w = 3))
runFlexible("agona", "delta_b4w3_np1_l0_50",
            list(range = ra52, b = 4, w = 3, noPeriods = 1, thresholdMethod = "delta", limit54 = c(0, 50)))
runFlexible("agona", "noufaily_b4w3_np10", noufaily(ra52, b = 4, w = 3))
runFlexible("agona", "muan_b4w3_np1", list(range = ra52, b = 4, w = 3, noPeriods = 1, thresholdMethod = "muan"))

# salmAllOnset: two years with b = 5.
rs <- lastWeeks("salmAllOnset", 104)
runClassic("salmAllOnset", "b5w3", list(range = rs, b = 5, w = 3))
runClassic("salmAllOnset", "b4w3_half", list(range = rs, b = 4, w = 3, powertrans = "1/2", reweight = FALSE))
runFlexible("salmAllOnset", "delta_b5w3_np1", list(range = rs, b = 5, w = 3, noPeriods = 1, thresholdMethod = "delta"))
runFlexible("salmAllOnset", "delta_b5w3_np10", list(range = rs, b = 5, w = 3, noPeriods = 10, thresholdMethod = "delta"))
runFlexible("salmAllOnset", "noufaily_b5w3_np10", noufaily(rs))
runFlexible("salmAllOnset", "muan_b5w3_np10", list(range = rs, b = 5, w = 3, noPeriods = 10, thresholdMethod = "muan"))

# sim53: 2020 and 2021 evaluated with b = 5 (reference years include 53-week 2015 and 2020).
r3 <- which(series$sim53$dates >= as.Date("2020-01-01"))
runClassic("sim53", "b5w3", list(range = r3, b = 5, w = 3))
runClassic("sim53", "b4w3_l0_50", list(range = r3, b = 4, w = 3, limit54 = c(0, 50)))
runClassic("sim53", "b3w2_none", list(range = r3, b = 3, w = 2, powertrans = "none", alpha = 0.01))
runFlexible("sim53", "delta_b4w3_np1_l0_50",
            list(range = r3, b = 4, w = 3, noPeriods = 1, thresholdMethod = "delta", limit54 = c(0, 50)))
runFlexible("sim53", "delta_b5w3_np1", list(range = r3, b = 5, w = 3, noPeriods = 1, thresholdMethod = "delta"))
runFlexible("sim53", "delta_b5w3_np10", list(range = r3, b = 5, w = 3, noPeriods = 10, thresholdMethod = "delta"))
runFlexible("sim53", "noufaily_b5w3_np1", noufaily(r3, noPeriods = 1))
runFlexible("sim53", "noufaily_b5w3_np10", noufaily(r3))
runFlexible("sim53", "muan_b5w3_np1", list(range = r3, b = 5, w = 3, noPeriods = 1, thresholdMethod = "muan"))
runFlexible("sim53", "muan_b5w3_np10", list(range = r3, b = 5, w = 3, noPeriods = 10, thresholdMethod = "muan"))

# sat29: 2020 (with 2020-02-29) and 2021 evaluated with b = 5 and b = 4.
r4 <- which(series$sat29$dates >= as.Date("2020-01-01"))
runClassic("sat29", "b5w3", list(range = r4, b = 5, w = 3))
runClassic("sat29", "b4w3", list(range = r4, b = 4, w = 3))
runFlexible("sat29", "delta_b4w3_np1_l0_50",
            list(range = r4, b = 4, w = 3, noPeriods = 1, thresholdMethod = "delta", limit54 = c(0, 50)))
runFlexible("sat29", "delta_b5w3_np10", list(range = r4, b = 5, w = 3, noPeriods = 10, thresholdMethod = "delta"))
runFlexible("sat29", "noufaily_b5w3_np10", noufaily(r4))
runFlexible("sat29", "muan_b5w3_np1", list(range = r4, b = 5, w = 3, noPeriods = 1, thresholdMethod = "muan"))

cat("R", paste(R.version$major, R.version$minor, sep = "."), "surveillance",
    as.character(packageVersion("surveillance")), "jsonlite", as.character(packageVersion("jsonlite")), "\n")
cat(length(list.files(outDir, pattern = "\\.json$")), "files written to", outDir, "\n")
