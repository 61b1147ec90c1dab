using System.Diagnostics;
using Firewall.Native;

namespace Firewall.Integration.Tests.Native;

/// <summary>The bell a parked bridge reader waits on: a ring is never lost, is consumed by the wait it ends, and the
/// stop event still ends the wait.</summary>
public sealed class BellTests
{
    [Fact]
    public void ARingBeforeTheWait_EndsItAtOnce_AndIsConsumed()
    {
        using var stop = new StopEvent();
        using var bell = new Bell();
        bell.Ring();
        bell.Ring();
        Assert.Equal(WaitResult.Readable, bell.Wait(stop, 5000));
        Assert.Equal(WaitResult.Timeout, bell.Wait(stop, 50)); // both rings consumed by the one wait
    }

    [Fact]
    public void ARingFromAnotherThread_WakesTheWaiter()
    {
        using var stop = new StopEvent();
        using var bell = new Bell();
        var clock = Stopwatch.StartNew();
        var ringer = new Thread(() => { Thread.Sleep(100); bell.Ring(); });
        ringer.Start();
        Assert.Equal(WaitResult.Readable, bell.Wait(stop, 10_000));
        Assert.True(clock.ElapsedMilliseconds < 5000, $"woken after {clock.ElapsedMilliseconds} ms");
        ringer.Join();
    }

    [Fact]
    public void TheStopEvent_EndsTheWait_AndWinsOverARing()
    {
        using var stop = new StopEvent();
        using var bell = new Bell();
        bell.Ring();
        stop.Set();
        Assert.Equal(WaitResult.Stopped, bell.Wait(stop, 5000));
    }

    [Fact]
    public void ADisposedBell_SaysSo()
    {
        var bell = new Bell();
        bell.Dispose();
        bell.Dispose(); // twice is fine
        Assert.Throws<ObjectDisposedException>(bell.Ring);
    }
}
