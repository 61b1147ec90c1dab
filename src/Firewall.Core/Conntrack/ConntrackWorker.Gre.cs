using Firewall.Core.Conntrack.Gre;

namespace Firewall.Core.Conntrack;

/// <summary>GRE hooks of the worker: per-entry timeouts at creation, stream timeout and ASSURED after a reply.</summary>
public sealed partial class ConntrackWorker
{
    private static uint GreNew(ref CtEntry e, ConntrackSettings s)
    {
        e.Gre = GreTracker.NewState(s);
        return e.Gre.TimeoutMs;
    }

    private static uint GreExisting(ref CtEntry e, ushort status, ref ushort newStatus)
    {
        uint timeout = GreTracker.Timeout(in e.Gre, (CtStatus)status, out bool assured);
        if (assured) newStatus |= (ushort)CtStatus.Assured;
        return timeout;
    }
}
