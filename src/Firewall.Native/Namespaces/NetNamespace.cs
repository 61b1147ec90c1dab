using System.Runtime.ExceptionServices;

namespace Firewall.Native.Namespaces;

/// <summary>
/// Runs code inside a named network namespace (the ones `ip netns add NAME` creates under /run/netns).
/// setns(CLONE_NEWNET) moves only the calling OS thread: sockets, pcap handles, TUN devices and netlink queues
/// created on that thread afterwards belong to the namespace, and keep belonging to it when used from other threads.
/// Threads started from a thread inside a namespace inherit it.
/// Never enter a namespace on a thread-pool thread or across an await: use <see cref="Run(string, Action)"/> or a
/// dedicated thread (<see cref="StartThread"/>).
/// Note: /sys and /proc/net keep showing the namespace the process started in; use ioctl/netlink-based helpers.
/// </summary>
public static class NetNamespace
{
    public const string RunDirectory = "/run/netns";

    /// <summary>Moves the calling thread into the namespace; dispose the scope on the same thread to go back.</summary>
    public static NetNamespaceScope Enter(string name)
    {
        string path = PathOf(name);
        int original = OpenNamespace("/proc/thread-self/ns/net");
        try
        {
            int target = OpenNamespace(path);
            try
            {
                if (Interop.Namespaces.SetNs(target, Interop.Namespaces.CLONE_NEWNET) != 0)
                    NativeException.ThrowLast($"setns {path}");
            }
            finally
            {
                Interop.Libc.Close(target);
            }
        }
        catch
        {
            Interop.Libc.Close(original);
            throw;
        }
        return new NetNamespaceScope(name, original);
    }

    /// <summary>Runs action on a fresh thread inside the namespace, waits for it, rethrows its exception.</summary>
    public static void Run(string name, Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Run<object?>(name, () =>
        {
            action();
            return null;
        });
    }

    /// <summary>Runs func on a fresh thread inside the namespace and returns its result.</summary>
    public static T Run<T>(string name, Func<T> func)
    {
        ArgumentNullException.ThrowIfNull(func);
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = StartThread(name, $"netns {name}", () => result = func(), e => error = e);
        thread.Join();
        error?.Throw();
        return result;
    }

    /// <summary>
    /// Starts a dedicated (background) thread that enters the namespace and runs body; onError receives what body
    /// (or entering) threw. Use for long-running receive loops.
    /// </summary>
    public static Thread StartThread(string name, string threadName, Action body, Action<ExceptionDispatchInfo> onError)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(onError);
        PathOf(name);
        var thread = new Thread(() =>
        {
            try
            {
                using (Enter(name))
                    body();
            }
            catch (Exception e)
            {
                onError(ExceptionDispatchInfo.Capture(e));
            }
        })
        {
            IsBackground = true,
            Name = threadName,
        };
        thread.Start();
        return thread;
    }

    public static bool Exists(string name) => File.Exists(PathOf(name));

    private static string PathOf(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/') || name is "." or "..") throw new ArgumentException($"invalid namespace name '{name}'", nameof(name));
        return Path.Combine(RunDirectory, name);
    }

    private static int OpenNamespace(string path)
    {
        int fd = Interop.Libc.Open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0) NativeException.ThrowLast($"open {path}");
        return fd;
    }
}
