-- Argo CD health of a tara.dev DomainTraining: Succeeded is Healthy, Failed is Degraded,
-- Suspended is Suspended, everything else (or a status older than the spec) is Progressing.
local hs = {}
if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the TARA operator"
  return hs
end
local s = obj.status
if obj.metadata.generation ~= nil and s.observedGeneration ~= nil and s.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "The operator has not seen generation " .. obj.metadata.generation .. " yet"
  return hs
end
if s.phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = "Trained"
  if s.metrics ~= nil and s.metrics.tunedEvalLoss ~= nil then
    hs.message = "Trained; eval loss " .. string.format("%.4f", s.metrics.tunedEvalLoss)
  end
elseif s.phase == "Failed" then
  hs.status = "Degraded"
  hs.message = (s.lastFailureReason or "Failed") .. ": " .. (s.lastFailureMessage or "")
elseif s.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true; checkpoints are kept"
else
  hs.status = "Progressing"
  hs.message = s.phase
  if s.progress ~= nil and s.progress.percent ~= nil then
    hs.message = s.phase .. " " .. string.format("%.1f", s.progress.percent) .. "% (step " .. (s.progress.step or 0) .. "/" .. (s.progress.totalSteps or 0) .. ")"
  end
  if s.lastFailureReason ~= nil then
    hs.message = hs.message .. "; last attempt: " .. s.lastFailureReason
  end
end
return hs
