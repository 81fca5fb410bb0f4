-- Argo CD health of a tara.dev GGUFPhase: Deployed is Healthy; Failed is Degraded (the message
-- says whether a previous revision keeps serving); the other phases are Progressing.
local hs = {}
if obj.status == nil or obj.status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the TARA operator"
  return hs
end
local s = obj.status
local function condition(kind)
  if s.conditions ~= nil then
    for _, c in ipairs(s.conditions) do
      if c.type == kind then
        return c
      end
    end
  end
  return nil
end
if obj.metadata.generation ~= nil and s.observedGeneration ~= nil and s.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "The operator has not seen generation " .. obj.metadata.generation .. " yet"
  return hs
end
if s.phase == "Deployed" then
  hs.status = "Healthy"
  hs.message = "Revision " .. (s.servedRevision or s.revision or 0) .. " serving " .. (s.servedQuantization or "") .. " at " .. (s.endpoint or "")
elseif s.phase == "Failed" then
  hs.status = "Degraded"
  local built = condition("Built")
  local ready = condition("Ready")
  hs.message = "Failed"
  if built ~= nil and built.status == "False" then
    hs.message = built.reason .. ": " .. (built.message or "")
  elseif ready ~= nil then
    hs.message = ready.reason .. ": " .. (ready.message or "")
  end
  if s.servedRevision ~= nil then
    hs.message = hs.message .. " (revision " .. s.servedRevision .. " keeps serving)"
  end
else
  hs.status = "Progressing"
  hs.message = s.phase
  if s.domainsReady ~= nil then
    hs.message = s.phase .. " (" .. s.domainsReady .. " domains trained)"
  end
end
return hs
