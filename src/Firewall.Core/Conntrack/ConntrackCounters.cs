namespace Firewall.Core.Conntrack;

/// <summary>The counters of <c>conntrack -S</c> (and <c>-S exp</c>), summed over all workers when read.</summary>
public struct ConntrackCounters
{
    public long Found;
    public long Invalid;
    public long Insert;
    public long InsertFailed;
    public long Drop;
    public long EarlyDrop;
    public long Error;
    public long SearchRestart;
    public long ClashResolve;
    public long ChainTooLong;
    public long ExpectNew;
    public long ExpectCreate;
    public long ExpectDelete;
    /// <summary>Events lost because a worker's event ring was full.</summary>
    public long EventsLost;
    /// <summary>Packets seen by Track (all outcomes).</summary>
    public long Packets;

    public void Add(in ConntrackCounters o)
    {
        Found += o.Found; Invalid += o.Invalid; Insert += o.Insert; InsertFailed += o.InsertFailed;
        Drop += o.Drop; EarlyDrop += o.EarlyDrop; Error += o.Error; SearchRestart += o.SearchRestart;
        ClashResolve += o.ClashResolve; ChainTooLong += o.ChainTooLong; ExpectNew += o.ExpectNew;
        ExpectCreate += o.ExpectCreate; ExpectDelete += o.ExpectDelete; EventsLost += o.EventsLost; Packets += o.Packets;
    }
}
