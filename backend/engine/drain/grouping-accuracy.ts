// Grouping accuracy (GA), the metric of the Loghub parsing benchmark (logpai/logparser): a line counts as
// right when the lines sharing its mined template are exactly the lines sharing its ground-truth event.

export function groupingAccuracy(predicted: readonly string[], truth: readonly string[]): number {
  if (predicted.length !== truth.length) throw new Error(`${predicted.length} templates for ${truth.length} events`);
  const byPredicted = groupIndices(predicted);
  const byTruth = groupIndices(truth);
  let correct = 0;
  for (const members of byPredicted.values()) {
    const event = truth[members[0]];
    const eventMembers = byTruth.get(event)!;
    if (eventMembers.length === members.length && members.every((i) => truth[i] === event)) correct += members.length;
  }
  return truth.length === 0 ? 1 : correct / truth.length;
}

function groupIndices(keys: readonly string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  keys.forEach((k, i) => {
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [i]);
    else g.push(i);
  });
  return groups;
}
