using Firewall.Integration.Tests.Lab;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Namespaces;

namespace Firewall.Integration.Tests.Native;

public sealed class NetNamespaceTests : IDisposable
{
    private readonly NetLab _lab = NetLab.Create();
    private readonly string _ns;
    private readonly string _link;

    public NetNamespaceTests() => (_ns, _link) = _lab.Build(lab =>
    {
        string ns = lab.AddNamespace("n");
        return (ns, lab.AddVethPair(ns, "x", ns, "y", up: false).A);
    });

    public void Dispose() => _lab.Dispose();

    [Fact]
    public void Enter_MovesTheThreadIn_AndDisposeMovesItBack()
    {
        OnFreshThread(() =>
        {
            Assert.Equal(0u, NetDevice.GetIndex(_link));
            using (NetNamespace.Enter(_ns))
                Assert.NotEqual(0u, NetDevice.GetIndex(_link));
            Assert.Equal(0u, NetDevice.GetIndex(_link));
        });
    }

    [Fact]
    public void Enter_AffectsOnlyTheCallingThread()
    {
        using var entered = new ManualResetEventSlim();
        using var checkedOther = new ManualResetEventSlim();
        var inside = new Thread(() =>
        {
            using (NetNamespace.Enter(_ns))
            {
                entered.Set();
                checkedOther.Wait();
            }
        });
        inside.Start();
        entered.Wait();
        try
        {
            Assert.Equal(0u, NetDevice.GetIndex(_link)); // this thread stayed outside
        }
        finally
        {
            checkedOther.Set();
            inside.Join();
        }
    }

    [Fact]
    public void StartThread_RunsTheBodyInsideTheNamespace()
    {
        uint index = 0;
        Thread thread = NetNamespace.StartThread(_ns, "probe", () => index = NetDevice.GetIndex(_link), e => e.Throw());
        Assert.True(thread.Join(5000));
        Assert.NotEqual(0u, index);
    }

    [Fact]
    public void ScopeDisposedOnAnotherThread_Throws()
    {
        Exception? error = null;
        OnFreshThread(() =>
        {
            NetNamespaceScope scope = NetNamespace.Enter(_ns);
            var other = new Thread(() => error = Record.Exception(scope.Dispose));
            other.Start();
            other.Join();
            scope.Dispose(); // the entering thread can still go back
            Assert.Equal(0u, NetDevice.GetIndex(_link));
        });
        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void Enter_UnknownNamespace_ThrowsWithPathAndErrno()
    {
        var e = Assert.Throws<NativeException>(() => NetNamespace.Run(_lab.Name("none"), () => { }));
        Assert.Equal(2, e.Errno); // ENOENT
        Assert.Contains($"/run/netns/{_lab.Name("none")}", e.Message);
    }

    [Fact]
    public void Run_RethrowsTheBodysException()
    {
        var e = Assert.Throws<InvalidOperationException>(() => NetNamespace.Run(_ns, () => throw new InvalidOperationException("inside")));
        Assert.Equal("inside", e.Message);
    }

    /// <summary>Runs body on a new thread (so a failed restore can never leak into the test runner's threads).</summary>
    private static void OnFreshThread(Action body)
    {
        Exception? failure = null;
        var thread = new Thread(() => failure = Record.Exception(body));
        thread.Start();
        thread.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }
}
