namespace Firewall.Core.Tests.Conntrack;

/// <summary>
/// Tests that start their own threads or allocate heavily run alone, after the parallel ones: on two cores they would
/// otherwise starve each other, and the GCs they cause show up in the allocation tests' per-thread byte counts.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (threads, heavy allocation)";
}
